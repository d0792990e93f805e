import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { startDevServer, type TestServer } from '../helpers/server.js';

/**
 * SECURITY.md T7: encoded and relative variants of protected paths never reach a backend the
 * ACL did not check. fetch() resolves '..' and '.' itself, so the requests go out verbatim over
 * a socket.
 */

interface RawResponse { status: number; body: unknown }

function raw(s: TestServer, method: string, target: string, token: string, body?: string): Promise<RawResponse> {
  const url = new URL(s.addr);
  const head = [
    `${method} ${target} HTTP/1.1`, `Host: ${url.host}`, `X-Vault-Token: ${token}`, 'Connection: close',
    ...(body === undefined ? [] : ['Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`]),
  ];
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      const rest = text.slice(text.indexOf('\r\n\r\n') + 4);
      let parsed: unknown = rest;
      try { parsed = rest ? JSON.parse(rest) : undefined; } catch { /* not JSON */ }
      resolve({ status, body: parsed });
    });
    socket.end(`${head.join('\r\n')}\r\n\r\n${body ?? ''}`);
  });
}

/** Ways to spell a path under sys/ (or an escape from secret/) that must never be routed as written. */
const VARIANTS = [
  'secret/../sys/mounts',
  'secret/data/../../sys/mounts',
  'secret/%2e%2e/sys/mounts',
  'secret/%2E%2E/sys/mounts',
  'secret/%2E%2E%2fsys/mounts',
  'secret/..%2Fsys/mounts',
  'secret%2F..%2Fsys%2Fmounts',
  'secret/.%2e/sys/mounts',
  'secret/%2e/../sys/mounts',
  'secret/./../sys/mounts',
  'secret//../sys/mounts',
  './sys/mounts',
  '../v1/sys/mounts',
  '%2e%2e/sys/mounts',
  'sys/./mounts',
  'sys//mounts',
  '/sys/mounts',
  'sys%2Fmounts',
  'sys%2fmounts',
  'secret/%5C..%5Csys%5Cmounts',
  'secret/%5c../sys/mounts',
  'secret/%252e%252e/sys/mounts',
  'secret/%252E%252E%252Fsys/mounts',
  'secret/%2500/../sys/mounts',
  'secret/%00/../sys/mounts',
  'sys/mounts/..',
  'sys/mounts/.',
  'secret/data/x/..',
];

const s = await startDevServer();
const put = await s.call('PUT', 'sys/policy/secret-only', {
  policy: 'path "secret/*" { capabilities = ["create", "read", "update", "delete", "list", "patch"] }\npath "secret/data/admin" { capabilities = ["deny"] }',
});
assert.equal(put.status, 204, JSON.stringify(put.body));
const created = await s.call('POST', 'auth/token/create', { policies: ['secret-only'], no_default_policy: true });
assert.equal(created.status, 200, JSON.stringify(created.body));
const limited: string = created.body.auth.client_token;

test('the limited token works where its policy allows and is refused on sys/', async () => {
  assert.equal((await raw(s, 'POST', '/v1/secret/data/app', limited, '{"data":{"k":"v"}}')).status, 200);
  assert.equal((await raw(s, 'GET', '/v1/secret/data/app', limited)).status, 200);
  assert.equal((await raw(s, 'GET', '/v1/sys/mounts', limited)).status, 403);
  assert.equal((await raw(s, 'GET', '/v1/secret/data/admin', limited)).status, 403);
});

test('relative and encoded variants are 400 for a limited token and for root alike', async () => {
  for (const variant of VARIANTS) {
    for (const [who, token] of [['limited', limited], ['root', s.rootToken]] as const) {
      const res = await raw(s, 'GET', `/v1/${variant}`, token);
      assert.equal(res.status, 400, `${who} GET ${variant}: ${JSON.stringify(res.body)}`);
      assert.ok(Array.isArray((res.body as { errors?: unknown }).errors), variant);
    }
  }
});

test('writes and LISTs through the variants change nothing', async () => {
  for (const variant of VARIANTS.slice(0, 12)) {
    const target = variant.replace('sys/mounts', 'sys/mounts/evil').replace('sys%2Fmounts', 'sys%2Fmounts%2Fevil');
    const res = await raw(s, 'POST', `/v1/${target}`, limited, '{"type":"kv"}');
    assert.equal(res.status, 400, `POST ${target}`);
    assert.equal((await raw(s, 'LIST', `/v1/${variant.replace('sys/mounts', 'sys/policy')}`, limited)).status, 400, `LIST ${variant}`);
  }
  const mounts = await s.call('GET', 'sys/mounts');
  assert.equal(mounts.body.data['evil/'], undefined);
});

test('percent-encoding cannot dodge a deny: the ACL checks the decoded path the router routes', async () => {
  assert.equal((await s.call('POST', 'secret/data/admin', { data: { root: 'only' } })).status, 200);
  // %61 is 'a': the same key, so the same deny.
  assert.equal((await raw(s, 'GET', '/v1/secret/data/%61dmin', limited)).status, 403);
  assert.equal((await raw(s, 'GET', '/v1/secret/data/%61%64%6d%69%6e', limited)).status, 403);
  // Twice-encoded is refused outright rather than guessed at.
  assert.equal((await raw(s, 'GET', '/v1/secret/data/%2561dmin', limited)).status, 400);
  // And a decoded name is the name: root wrote 'admin', root reads it back through %61.
  const viaEncoded = await raw(s, 'GET', '/v1/secret/data/%61dmin', s.rootToken);
  assert.equal(viaEncoded.status, 200);
  assert.deepEqual((viaEncoded.body as { data: { data: unknown } }).data.data, { root: 'only' });
});

test('an absolute-form request target does not reach a backend', async () => {
  const res = await raw(s, 'GET', `${s.addr}/v1/secret/../sys/mounts`, s.rootToken);
  assert.ok(res.status >= 400 && res.status < 500, `status ${res.status}`);
  const limitedRes = await raw(s, 'GET', `${s.addr}/v1/sys/mounts`, limited);
  assert.ok(limitedRes.status >= 400 && limitedRes.status < 500 && limitedRes.status !== 200, `status ${limitedRes.status}`);
});
