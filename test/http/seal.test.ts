import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { startConfiguredServer, sqliteConfig } from '../helpers/server.js';
import { tmpDir } from '../helpers/tmp.js';

const dir = tmpDir('seal-http');
const dbPath = join(dir, 'coffer.db');

test('init 5/3, unseal with 3 distinct shares, seal, restart sealed, unseal again; rekey', async (t) => {
  let s = await startConfiguredServer(sqliteConfig(dbPath));
  assert.deepEqual((await s.call('GET', 'sys/init')).body, { initialized: false });
  let st = await s.call('GET', 'sys/seal-status');
  assert.equal(st.body.initialized, false);
  assert.equal(st.body.sealed, true);
  assert.equal((await s.call('GET', 'sys/health')).status, 501);

  assert.equal((await s.call('PUT', 'sys/init', { secret_shares: 5, secret_threshold: 6 })).status, 400);
  assert.equal((await s.call('PUT', 'sys/init', { secret_shares: 0, secret_threshold: 0 })).status, 400);
  const init = await s.call('PUT', 'sys/init', { secret_shares: 5, secret_threshold: 3 });
  assert.equal(init.status, 200);
  const { keys, keys_base64: b64, root_token: rootToken } = init.body as { keys: string[]; keys_base64: string[]; root_token: string };
  assert.equal(keys.length, 5);
  assert.equal(new Set(keys).size, 5);
  assert.deepEqual(keys.map((k) => Buffer.from(k, 'hex').toString('base64')), b64);
  assert.match(rootToken, /^cfs\.[0-9A-Za-z]{24}$/);
  assert.equal((await s.call('PUT', 'sys/init', { secret_shares: 1, secret_threshold: 1 })).status, 400, 'second init refused');

  await t.test('sealed: ordinary requests are 503, health 503', async () => {
    assert.equal((await s.call('GET', 'sys/key-status', undefined, { 'X-Vault-Token': rootToken })).status, 503);
    assert.equal((await s.call('GET', 'sys/health')).status, 503);
    assert.equal((await s.call('GET', 'sys/health?sealedcode=299')).status, 299);
    const head = await fetch(`${s.addr}/v1/sys/health`, { method: 'HEAD' });
    assert.equal(head.status, 503);
  });

  await t.test('a wrong or malformed share is a 400 with no progress', async () => {
    const wrong = Buffer.from(keys[0]!, 'hex');
    wrong[0] = wrong[0]! ^ 0xff;
    const r = await s.call('PUT', 'sys/unseal', { key: wrong.toString('hex') });
    assert.equal(r.status, 400);
    assert.match(r.body.errors[0], /not one of the key shares/);
    assert.equal((await s.call('PUT', 'sys/unseal', { key: 'zz-not-a-key' })).status, 400);
    assert.equal((await s.call('PUT', 'sys/unseal', {})).status, 400);
    assert.equal((await s.call('GET', 'sys/seal-status')).body.progress, 0);
  });

  await t.test('duplicate share is ignored; reset clears progress', async () => {
    let r = await s.call('PUT', 'sys/unseal', { key: keys[0] });
    assert.equal(r.body.progress, 1);
    assert.notEqual(r.body.nonce, '');
    r = await s.call('PUT', 'sys/unseal', { key: b64[0] });
    assert.equal(r.body.progress, 1, 'same share in base64 is a duplicate');
    r = await s.call('PUT', 'sys/unseal', { reset: true });
    assert.equal(r.body.progress, 0);
    assert.equal(r.body.sealed, true);
  });

  await t.test('two shares do not unseal; the third does', async () => {
    await s.call('PUT', 'sys/unseal', { key: keys[1] });
    let r = await s.call('PUT', 'sys/unseal', { key: b64[3] });
    assert.equal(r.body.sealed, true);
    assert.equal(r.body.progress, 2);
    r = await s.call('PUT', 'sys/unseal', { key: keys[4] });
    assert.equal(r.status, 200);
    assert.equal(r.body.sealed, false);
    assert.equal(r.body.progress, 0);
    assert.equal((await s.call('GET', 'sys/health')).status, 200);
    assert.equal((await s.call('GET', 'sys/key-status', undefined, { 'X-Vault-Token': rootToken })).status, 200);
  });

  await t.test('sys/seal needs a token; with root it seals', async () => {
    assert.equal((await s.call('PUT', 'sys/seal', undefined, { 'X-Vault-Token': 'cfs.notatoken' })).status, 403);
    assert.equal((await s.call('PUT', 'sys/seal')).status, 403);
    assert.equal((await s.call('PUT', 'sys/seal', undefined, { 'X-Vault-Token': rootToken })).status, 204);
    assert.equal((await s.call('GET', 'sys/seal-status')).body.sealed, true);
  });

  await t.test('a restarted server is sealed and unseals with another quorum', async () => {
    await s.server.close();
    s = await startConfiguredServer(sqliteConfig(dbPath));
    assert.equal((await s.call('GET', 'sys/seal-status')).body.sealed, true);
    for (const k of [keys[2], keys[3], keys[0]]) await s.call('PUT', 'sys/unseal', { key: k });
    assert.equal((await s.call('GET', 'sys/seal-status')).body.sealed, false);
  });

  await t.test('rekey to 3/2 with a quorum of old shares; old shares stop working', async () => {
    const tok = { 'X-Vault-Token': rootToken };
    let r = await s.call('PUT', 'sys/rekey/init', { secret_shares: 3, secret_threshold: 2 }, tok);
    assert.equal(r.status, 200);
    assert.equal(r.body.started, true);
    assert.equal(r.body.required, 3);
    const nonce = r.body.nonce as string;
    assert.equal((await s.call('PUT', 'sys/rekey/update', { key: keys[0], nonce: 'wrong' })).status, 400);
    await s.call('PUT', 'sys/rekey/update', { key: keys[0], nonce });
    await s.call('PUT', 'sys/rekey/update', { key: keys[1], nonce });
    r = await s.call('PUT', 'sys/rekey/update', { key: keys[2], nonce });
    assert.equal(r.body.complete, true);
    const newKeys = r.body.keys as string[];
    assert.equal(newKeys.length, 3);
    assert.equal((await s.call('GET', 'sys/seal-status')).body.n, 3);
    await s.call('PUT', 'sys/seal', undefined, tok);
    assert.equal((await s.call('PUT', 'sys/unseal', { key: keys[0] })).status, 400, 'old share refused');
    await s.call('PUT', 'sys/unseal', { key: newKeys[2] });
    r = await s.call('PUT', 'sys/unseal', { key: newKeys[0] });
    assert.equal(r.body.sealed, false);
  });

  await t.test('T2: the SQLite file holds no share, root token or key material in raw, hex or base64', async () => {
    await s.server.close();
    const raw = readFileSync(dbPath);
    const wal = (() => { try { return readFileSync(`${dbPath}-wal`); } catch { return Buffer.alloc(0); } })();
    const haystack = Buffer.concat([raw, wal]);
    for (const k of keys) {
      const bytes = Buffer.from(k, 'hex');
      for (const form of [bytes, Buffer.from(k), Buffer.from(bytes.toString('base64')), Buffer.from(k.toUpperCase())]) {
        assert.equal(haystack.includes(form), false, 'share found in storage');
      }
    }
    assert.equal(haystack.includes(Buffer.from(rootToken)), false, 'root token found in storage');
    assert.equal(haystack.includes(Buffer.from(rootToken.slice(4))), false, 'root token body found in storage');
  });
});

test('cluster_id appears once unsealed and stays the same across restarts; step-down is a 204 no-op', async () => {
  const { startDevServer } = await import('../helpers/server.js');
  const dir = tmpDir('cluster-id');
  let s = await startDevServer({ dataDir: dir });
  const first = (await s.call('GET', 'sys/seal-status')).body.cluster_id as string;
  assert.match(first, /^[0-9a-f-]{36}$/);
  assert.equal((await s.call('GET', 'sys/health')).body.cluster_id, first);
  assert.equal((await s.call('PUT', 'sys/step-down')).status, 204);
  await s.server.close();
  s = await startDevServer({ dataDir: dir });
  assert.equal((await s.call('GET', 'sys/seal-status')).body.cluster_id, first);
});
