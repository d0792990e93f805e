import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { startDevServer } from '../helpers/server.js';
import { tmpDir } from '../helpers/tmp.js';
import { enableFile } from './helpers.js';
import { httpReceiver, streamReceiver } from './receivers.js';

// SECURITY.md T2 (audit part): canary secrets and tokens written and read through the API
// appear in no audit record, on any device.

const dir = tmpDir('audit-t2');

test('T2: canary secret values and tokens appear in no audit file or stream', async () => {
  const root = 'root-canary-token-T2-5b0d';
  const s = await startDevServer({ rootToken: root });
  const file = join(dir, 'canary.log');
  await enableFile(s, 'file', file);
  await enableFile(s, 'prefixed', join(dir, 'canary-prefixed.log'), { prefix: 'coffer: ', hmac_accessor: 'false' });
  const socket = await streamReceiver();
  assert.equal((await s.call('PUT', 'sys/audit/sock', { type: 'socket', options: { address: `127.0.0.1:${socket.port}` } })).status, 204);
  const siem = await httpReceiver();
  assert.equal((await s.call('PUT', 'sys/audit/siem', { type: 'http', options: { url: siem.url, headers: '{"Authorization":"Splunk hec-T2-canary-token"}' } })).status, 204);

  const canaries = [root, 'kv2-canary-value-1f9a', 'kv2-patched-canary-77c1', 'kv1-canary-value-a41e', 'cubby-canary-value-90bd', 'nested-canary-3e2f', 'hash-input-canary-0c9d'];
  // KV v2: write, read, patch, metadata; nested values too.
  assert.equal((await s.call('POST', 'secret/data/app', { data: { password: canaries[1], deep: { list: [canaries[5]] } } })).status, 200);
  assert.equal((await s.call('GET', 'secret/data/app')).body.data.data.password, canaries[1]);
  assert.equal((await s.call('PATCH', 'secret/data/app', { data: { password: canaries[2] } }, { 'Content-Type': 'application/merge-patch+json' })).status, 200);
  assert.equal((await s.call('GET', 'secret/data/app')).body.data.data.password, canaries[2]);
  // KV v1 and cubbyhole.
  assert.equal((await s.call('POST', 'sys/mounts/kv1', { type: 'kv', options: { version: '1' } })).status, 204);
  await s.call('POST', 'kv1/app', { value: canaries[3] });
  assert.equal((await s.call('GET', 'kv1/app')).body.data.value, canaries[3]);
  await s.call('POST', 'cubbyhole/app', { value: canaries[4] });
  assert.equal((await s.call('GET', 'cubbyhole/app')).body.data.value, canaries[4]);
  // Tokens: created (returned in auth), used in a header, looked up, wrapped.
  const child = await s.call('POST', 'auth/token/create', { policies: ['default'], ttl: '1h' });
  const childToken = child.body.auth.client_token as string;
  canaries.push(childToken);
  assert.equal((await s.call('GET', 'auth/token/lookup-self', undefined, { 'X-Vault-Token': childToken })).status, 200);
  assert.equal((await s.call('POST', 'auth/token/lookup', { token: childToken })).status, 200);
  const wrapped = await s.call('GET', 'secret/data/app', undefined, { 'X-Vault-Wrap-TTL': '5m' });
  assert.ok(wrapped.body.wrap_info, JSON.stringify(wrapped.body));
  canaries.push(wrapped.body.wrap_info.token as string);
  assert.equal((await s.call('POST', 'sys/wrapping/unwrap', undefined, { 'X-Vault-Token': wrapped.body.wrap_info.token as string })).status, 200);
  assert.equal((await s.call('POST', 'sys/audit-hash/file', { input: canaries[6] })).status, 200);
  await s.call('GET', 'secret/data/app', undefined, { 'X-Vault-Token': `${root}-wrong` });

  await s.server.close();
  const outputs: Array<[string, string]> = [
    ['file', await readFile(file, 'utf8')],
    ['prefixed', await readFile(join(dir, 'canary-prefixed.log'), 'utf8')],
    ['socket', socket.chunks.join('')],
    ['http', siem.chunks.join('')],
  ];
  for (const [name, text] of outputs) {
    assert.ok(text.includes('secret/data/app'), `${name} received the entries`);
    for (const c of canaries) assert.ok(!text.includes(c), `canary ${c.slice(0, 12)}… found in the ${name} audit output`);
  }
  assert.ok(siem.requests.every((r) => r.headers['authorization'] === 'Splunk hec-T2-canary-token'), 'the collector token goes in the header');
});
