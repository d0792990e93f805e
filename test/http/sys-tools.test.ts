/** sys/tools/random and sys/tools/hash, as Vault serves them (the same operations as transit's). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ok, startDevServer } from '../helpers/server.js';

const s = await startDevServer();

test('sys/tools/random: byte count in the body or the path, hex or base64, bounds checked', async () => {
  const b64 = await ok(s.call('POST', 'sys/tools/random', {}), 200);
  assert.equal(Buffer.from(b64.data.random_bytes, 'base64').length, 32, 'default 32 bytes, base64');
  const hex = await ok(s.call('POST', 'sys/tools/random/16', { format: 'hex' }), 200);
  assert.match(hex.data.random_bytes, /^[0-9a-f]{32}$/);
  const sourced = await ok(s.call('POST', 'sys/tools/random/platform/8'), 200);
  assert.equal(Buffer.from(sourced.data.random_bytes, 'base64').length, 8);
  assert.notEqual((await ok(s.call('POST', 'sys/tools/random', {}), 200)).data.random_bytes, b64.data.random_bytes);
  assert.equal((await s.call('POST', 'sys/tools/random', { bytes: 131073 })).status, 400);
  assert.equal((await s.call('POST', 'sys/tools/random', { format: 'base32' })).status, 400);
});

test('sys/tools/hash: algorithms in the body or the path; the default policy may hash but not draw random bytes', async () => {
  const input = Buffer.from('hello coffer').toString('base64');
  const sha256 = await ok(s.call('POST', 'sys/tools/hash', { input }), 200);
  assert.equal(sha256.data.sum, createHash('sha256').update('hello coffer').digest('hex'));
  const sha512 = await ok(s.call('POST', 'sys/tools/hash/sha2-512', { input, format: 'base64' }), 200);
  assert.equal(sha512.data.sum, createHash('sha512').update('hello coffer').digest('base64'));
  assert.equal((await s.call('POST', 'sys/tools/hash/md5', { input })).status, 400);

  const created = await ok(s.call('POST', 'auth/token/create', { policies: ['default'] }), 200);
  const token = { 'X-Vault-Token': created.auth.client_token as string };
  assert.equal((await s.call('POST', 'sys/tools/hash', { input }, token)).status, 200);
  assert.equal((await s.call('POST', 'sys/tools/random', {}, token)).status, 403);
});
