import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { requestEntry, requestEntryText, responseEntry, responseEntryText, sharedParts } from '../../src/audit/format.js';
import { Salter, cachedHasher, hashStructure } from '../../src/audit/hmac.js';
import { chainLine, parseChainLine } from '../../src/audit/line.js';
import type { Caller } from '../../src/core/framework.js';
import type { CoreRequest } from '../../src/core/request.js';

const salt = randomBytes(32);
const salter = new Salter(salt);
const hmac = (v: string): string => `hmac-sha256:${createHmac('sha256', salt).update(v).digest('hex')}`;

test('Salter is HMAC-SHA256 keyed with the salt, written as hmac-sha256:<hex>', () => {
  for (const v of ['', 'a', 'ünïcødé', 'x'.repeat(10_000)]) assert.equal(salter.hmac(v), hmac(v));
});

test('hashStructure: every string (values only, at any depth), bytes too; numbers, booleans, nulls and keys stay', () => {
  const h = cachedHasher(salter, new Map());
  const out = hashStructure({ s: 'secret', n: 1, b: true, z: null, list: ['a', 2, { deep: 'd' }], bytes: Buffer.from('raw-bytes') }, h);
  assert.deepEqual(out, {
    s: hmac('secret'), n: 1, b: true, z: null, list: [hmac('a'), 2, { deep: hmac('d') }], bytes: hmac(Buffer.from('raw-bytes').toString('base64')),
  });
});

test('entries never carry the caller\'s raw token; accessor hashing follows hmac_accessor', () => {
  const caller: Caller = {
    token: 'cfs.rawtokenvalue0123456789', tokenId: 'a'.repeat(64), accessor: 'ACCESSORvalue', policies: ['default'],
    entityId: 'ent-1', displayName: 'token-app', meta: { team: 'blue' }, tokenType: 'service', isRoot: false,
  };
  const req: CoreRequest = {
    id: 'r1', operation: 'update', path: 'secret/data/x', data: { data: { pw: 'hunter2' } }, token: caller.token,
    clientIp: '10.1.2.3', headers: { 'user-agent': 'ua/1' }, wrapTtl: 60, namespace: 'root',
  };
  const src = { req, path: 'secret/data/x', caller, mount: { type: 'kv', path: 'secret/', accessor: 'kv_1' } };
  const hashed = JSON.stringify(requestEntry(src, cachedHasher(salter, new Map()), { hmacAccessor: true, elideListResponses: false }));
  assert.ok(!hashed.includes(caller.token) && !hashed.includes('hunter2') && !hashed.includes('ACCESSORvalue'));
  assert.ok(hashed.includes(hmac(caller.token)) && hashed.includes(hmac('hunter2')));
  const plainAccessor = requestEntry(src, cachedHasher(salter, new Map()), { hmacAccessor: false, elideListResponses: false });
  assert.equal((plainAccessor['auth'] as Record<string, unknown>)['accessor'], 'ACCESSORvalue');
  const r = requestEntry(src, cachedHasher(salter, new Map()), { hmacAccessor: true, elideListResponses: false })['request'] as Record<string, unknown>;
  assert.equal(r['wrap_ttl'], 60);
  assert.deepEqual(r['namespace'], { id: 'root' });

  const res = responseEntry(src, {
    auth: {
      client_token: 'cfs.newtoken', accessor: 'NEWACC', policies: ['p'], token_policies: ['p'], metadata: null, lease_duration: 60,
      renewable: true, entity_id: '', token_type: 'service', orphan: false, num_uses: 0,
    },
    wrapInfo: { token: 'cfs.wraptoken', accessor: 'WRAPACC', ttl: 60, creation_time: 't', creation_path: 'p' },
  }, cachedHasher(salter, new Map()), { hmacAccessor: true, elideListResponses: false }, new Error('boom: secret detail'));
  const text = JSON.stringify(res);
  for (const raw of ['cfs.newtoken', 'NEWACC', 'cfs.wraptoken', 'WRAPACC', 'secret detail']) assert.ok(!text.includes(raw), raw);
  assert.equal(res['error'], 'internal error', 'errors that are not ours are never described');
});

test('a chained line checks its own hash; any byte changed before the hash breaks it', () => {
  const line = chainLine(7, 'f'.repeat(64), '{"type":"request","x":"y"}');
  const p = parseChainLine(line.text)!;
  assert.deepEqual([p.seq, p.prevHash, p.hash, p.intact], [7, 'f'.repeat(64), line.hash, true]);
  for (let i = 0; i < line.text.length - 70; i += 3) {
    const c = line.text[i] === 'a' ? 'b' : 'a';
    const bad = parseChainLine(line.text.slice(0, i) + c + line.text.slice(i + 1));
    assert.ok(bad === undefined || !bad.intact, `byte ${i}`);
  }
  assert.equal(parseChainLine(`prefix ${line.text}`)?.intact, true, 'a prefix is skipped');
});

test('the text entries the broker writes are the object entries, field for field and in order', () => {
  const caller: Caller = {
    token: 't0k3n', tokenId: 'b'.repeat(64), accessor: 'acc', policies: ['p'], entityId: '', displayName: 'd', meta: {}, tokenType: 'batch', isRoot: false,
  };
  const req: CoreRequest = { id: 'r', operation: 'read', path: 'kv/x', data: {}, token: 't0k3n', clientIp: '::1', headers: {}, wrapTtl: undefined, namespace: 'root' };
  const src = { req, path: 'kv/x', caller, mount: undefined };
  const opts = { hmacAccessor: true, elideListResponses: false };
  const h = cachedHasher(salter, new Map());
  const parts = sharedParts(src, h, opts);
  const strip = (o: Record<string, unknown>): string => JSON.stringify({ ...o, time: 'T' });
  for (const error of [undefined, new Error('x')]) {
    assert.equal(strip(JSON.parse(requestEntryText(parts, error)) as Record<string, unknown>), strip(requestEntry(src, h, opts, error)));
    for (const res of [undefined, {}, { data: { k: 'v' }, warnings: ['w'] }]) {
      assert.equal(strip(JSON.parse(responseEntryText(src, parts, res, h, opts, error)) as Record<string, unknown>), strip(responseEntry(src, res, h, opts, error)));
    }
  }
});
