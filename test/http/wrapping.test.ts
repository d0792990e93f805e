import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startDevServer, type TestServer } from '../helpers/server.js';
import { tmpDir } from '../helpers/tmp.js';

const INVALID = 'wrapping token is not valid or does not exist';
const WRAP_INFO_KEYS = ['accessor', 'creation_path', 'creation_time', 'token', 'ttl'];

const s = await startDevServer();
const noToken = { 'X-Vault-Token': '' };

async function wrap(server: TestServer, data: Record<string, unknown>, ttl = '5m'): Promise<Record<string, any>> {
  const res = await server.call('POST', 'sys/wrapping/wrap', data, { 'X-Vault-Wrap-TTL': ttl });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.wrap_info;
}

test('wrap, look up (without a token), unwrap once: Vault\'s shapes and the 400 after', async () => {
  const res = await s.call('POST', 'sys/wrapping/wrap', { zip: 'zap', n: 3 }, { 'X-Vault-Wrap-TTL': '90s' });
  assert.equal(res.status, 200);
  assert.equal(res.body.data, null);
  assert.equal(res.body.auth, null);
  const info = res.body.wrap_info;
  assert.deepEqual(Object.keys(info).sort(), WRAP_INFO_KEYS);
  assert.equal(info.ttl, 90);
  assert.equal(info.creation_path, 'sys/wrapping/wrap');
  assert.ok(Math.abs(Date.parse(info.creation_time) - Date.now()) < 60_000);
  assert.match(info.token, /^cfs\./);

  const lookup = await s.call('POST', 'sys/wrapping/lookup', { token: info.token }, noToken);
  assert.equal(lookup.status, 200);
  assert.deepEqual(lookup.body.data, { creation_path: 'sys/wrapping/wrap', creation_time: info.creation_time, creation_ttl: 90 });
  // The wrapping token itself as X-Vault-Token works too, and looking up does not use it.
  assert.equal((await s.call('GET', 'sys/wrapping/lookup', undefined, { 'X-Vault-Token': info.token })).body.data.creation_ttl, 90);

  const unwrapped = await s.call('POST', 'sys/wrapping/unwrap', { token: info.token });
  assert.equal(unwrapped.status, 200);
  assert.deepEqual(unwrapped.body.data, { zip: 'zap', n: 3 });
  assert.equal(unwrapped.body.request_id, res.body.request_id, 'the original response, as stored');
  assert.equal(unwrapped.body.wrap_info, null);

  for (const again of [
    await s.call('POST', 'sys/wrapping/unwrap', { token: info.token }),
    await s.call('POST', 'sys/wrapping/unwrap', undefined, { 'X-Vault-Token': info.token }),
    await s.call('POST', 'sys/wrapping/lookup', { token: info.token }, noToken),
    await s.call('POST', 'sys/wrapping/rewrap', { token: info.token }),
  ]) {
    assert.equal(again.status, 400);
    assert.deepEqual(again.body, { errors: [INVALID] });
  }
});

test('the wrap TTL comes from X-Vault-Wrap-TTL or a wrap_ttl field, and is required', async () => {
  const viaField = await s.call('POST', 'sys/wrapping/wrap', { a: 1, wrap_ttl: '2m' });
  assert.equal(viaField.status, 200);
  assert.equal(viaField.body.wrap_info.ttl, 120);
  const out = await s.call('POST', 'sys/wrapping/unwrap', { token: viaField.body.wrap_info.token });
  assert.deepEqual(out.body.data, { a: 1 }, 'wrap_ttl is not part of the wrapped data');
  // With the header, wrap_ttl is just data.
  const both = await wrap(s, { wrap_ttl: 'kept' }, '30s');
  assert.equal(both.ttl, 30);
  assert.deepEqual((await s.call('POST', 'sys/wrapping/unwrap', { token: both.token })).body.data, { wrap_ttl: 'kept' });

  const none = await s.call('POST', 'sys/wrapping/wrap', { a: 1 });
  assert.equal(none.status, 400);
  assert.equal(none.body.errors[0], 'must specify a wrapping TTL');
  assert.equal((await s.call('POST', 'sys/wrapping/wrap', { a: 1 }, { 'X-Vault-Wrap-TTL': 'nope' })).status, 400);
});

test('T13: 20 concurrent unwraps of one token (given in the body) -> exactly one 200', async () => {
  const info = await wrap(s, { secret: 'only-once' });
  const results = await Promise.all(Array.from({ length: 20 }, () => s.call('POST', 'sys/wrapping/unwrap', { token: info.token })));
  const ok = results.filter((r) => r.status === 200);
  assert.equal(ok.length, 1, JSON.stringify(results.map((r) => r.status)));
  assert.deepEqual(ok[0]!.body.data, { secret: 'only-once' });
  for (const r of results.filter((x) => x.status !== 200)) assert.deepEqual(r.body, { errors: [INVALID] });
});

test('T13: 20 concurrent unwraps with the wrapping token as X-Vault-Token -> exactly one 200', async () => {
  const info = await wrap(s, { secret: 'only-once-too' });
  const results = await Promise.all(Array.from({ length: 20 }, () => s.call('POST', 'sys/wrapping/unwrap', undefined, { 'X-Vault-Token': info.token })));
  const ok = results.filter((r) => r.status === 200);
  assert.equal(ok.length, 1, JSON.stringify(results.map((r) => r.status)));
  assert.deepEqual(ok[0]!.body.data, { secret: 'only-once-too' });
  // Losers are refused: 400 when the token is seen spent first, 403 when it is spent mid-flight.
  for (const r of results.filter((x) => x.status !== 200)) assert.ok(r.status === 400 || r.status === 403, String(r.status));
});

test('T13 across both forms at once: still exactly one 200', async () => {
  const info = await wrap(s, { secret: 'mixed' });
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0
    ? s.call('POST', 'sys/wrapping/unwrap', { token: info.token })
    : s.call('POST', 'sys/wrapping/unwrap', undefined, { 'X-Vault-Token': info.token }))));
  assert.equal(results.filter((r) => r.status === 200).length, 1, JSON.stringify(results.map((r) => r.status)));
});

test('T13 at the pipeline itself: 20 interleaved unwraps (no HTTP parsing between them) -> exactly one', async () => {
  // Over HTTP each request tends to finish before the next is parsed; straight into the pipeline
  // the 20 calls interleave at every await, which is where a claim that is not atomic breaks.
  for (const form of ['body', 'header'] as const) {
    const info = await wrap(s, { secret: form });
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => s.server.core.pipeline.handle({
      id: `t13-${form}-${i}`, operation: 'update', path: 'sys/wrapping/unwrap', data: form === 'body' ? { token: info.token } : {},
      token: form === 'body' ? s.rootToken : info.token, clientIp: '127.0.0.1', headers: {}, wrapTtl: undefined, namespace: 'root',
    })));
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1, `${form}: ${won.length} unwraps succeeded`);
    assert.deepEqual((won[0] as PromiseFulfilledResult<{ raw?: { body: { data: unknown } } }>).value.raw?.body.data, { secret: form });
  }
});

test('X-Vault-Wrap-TTL wraps any response: a KV read and a token creation', async () => {
  assert.equal((await s.call('POST', 'secret/data/wrapped', { data: { pw: 'hunter2' } })).status, 200);
  const read = await s.call('GET', 'secret/data/wrapped', undefined, { 'X-Vault-Wrap-TTL': '60' });
  assert.equal(read.status, 200);
  assert.equal(read.body.data, null);
  assert.equal(read.body.wrap_info.creation_path, 'secret/data/wrapped');
  assert.equal(read.body.wrap_info.wrapped_accessor, undefined);
  const got = await s.call('POST', 'sys/wrapping/unwrap', undefined, { 'X-Vault-Token': read.body.wrap_info.token });
  assert.equal(got.status, 200);
  assert.deepEqual(got.body.data.data, { pw: 'hunter2' });
  assert.equal(got.body.mount_type, 'kv');

  const created = await s.call('POST', 'auth/token/create', { policies: ['default'], ttl: '1h' }, { 'X-Vault-Wrap-TTL': '5m' });
  assert.equal(created.status, 200);
  assert.equal(created.body.auth, null);
  const info = created.body.wrap_info;
  assert.deepEqual(Object.keys(info).sort(), [...WRAP_INFO_KEYS, 'wrapped_accessor'].sort());
  assert.equal(info.creation_path, 'auth/token/create');
  const unwrapped = await s.call('POST', 'sys/wrapping/unwrap', { token: info.token });
  assert.equal(unwrapped.status, 200);
  assert.equal(unwrapped.body.auth.accessor, info.wrapped_accessor);
  const child = unwrapped.body.auth.client_token;
  assert.equal((await s.call('GET', 'auth/token/lookup-self', undefined, { 'X-Vault-Token': child })).status, 200);
});

test('a wrapping token is good for unwrapping and nothing else', async () => {
  const info = await wrap(s, { x: 1 });
  const as = { 'X-Vault-Token': info.token };
  assert.equal((await s.call('GET', 'secret/data/wrapped', undefined, as)).status, 403);
  assert.equal((await s.call('GET', 'sys/mounts', undefined, as)).status, 403);
  // A token that is not a wrapping token cannot be unwrapped.
  const plain = await s.call('POST', 'auth/token/create', { policies: ['default'] });
  const asPlain = await s.call('POST', 'sys/wrapping/unwrap', { token: plain.body.auth.client_token });
  assert.equal(asPlain.status, 400);
  assert.equal((await s.call('POST', 'sys/wrapping/unwrap', {})).status, 400, 'root token is no wrapping token');
  // Still intact after all that.
  assert.deepEqual((await s.call('POST', 'sys/wrapping/unwrap', undefined, as)).body.data, { x: 1 });
});

test('rewrap hands out a new token for the same response and retires the old one', async () => {
  const first = await wrap(s, { keep: 'me' }, '10m');
  const re = await s.call('POST', 'sys/wrapping/rewrap', { token: first.token });
  assert.equal(re.status, 200);
  const second = re.body.wrap_info;
  assert.notEqual(second.token, first.token);
  assert.equal(second.ttl, 600);
  assert.equal(second.creation_path, 'sys/wrapping/wrap');
  assert.equal((await s.call('POST', 'sys/wrapping/unwrap', { token: first.token })).status, 400);
  const out = await s.call('POST', 'sys/wrapping/unwrap', { token: second.token });
  assert.deepEqual(out.body.data, { keep: 'me' });
});

test('revoking a wrapping token (by accessor) makes it unusable and deletes what it held', async () => {
  const info = await wrap(s, { gone: true });
  const before = await s.server.core.barrier.list('sys/wrapping/response/');
  const rev = await s.call('POST', 'auth/token/revoke-accessor', { accessor: info.accessor });
  assert.equal(rev.status, 204, JSON.stringify(rev.body));
  const after = await s.server.core.barrier.list('sys/wrapping/response/');
  assert.equal(after.length, before.length - 1);
  assert.equal((await s.call('POST', 'sys/wrapping/unwrap', { token: info.token })).status, 400);
});

test('an expired wrapping token is invalid', async () => {
  const info = await wrap(s, { short: 'lived' }, '1s');
  await new Promise((r) => setTimeout(r, 1_300));
  const res = await s.call('POST', 'sys/wrapping/unwrap', { token: info.token });
  assert.equal(res.status, 400);
  assert.deepEqual(res.body, { errors: [INVALID] });
});

test('policy min/max_wrapping_ttl bound the wrap TTL', async () => {
  assert.equal((await s.call('PUT', 'sys/policy/short-wraps', {
    policy: 'path "secret/data/*" { capabilities = ["read"] min_wrapping_ttl = "10s" max_wrapping_ttl = "1m" }',
  })).status, 204);
  const t = (await s.call('POST', 'auth/token/create', { policies: ['short-wraps'] })).body.auth.client_token;
  const as = (ttl?: string) => ({ 'X-Vault-Token': t, ...(ttl ? { 'X-Vault-Wrap-TTL': ttl } : {}) });
  assert.equal((await s.call('GET', 'secret/data/wrapped', undefined, as('30s'))).status, 200);
  assert.equal((await s.call('GET', 'secret/data/wrapped', undefined, as('5m'))).status, 403);
  assert.equal((await s.call('GET', 'secret/data/wrapped', undefined, as('5s'))).status, 403);
  assert.equal((await s.call('GET', 'secret/data/wrapped', undefined, as())).status, 403);
});

test('T2: a wrapped response is stored encrypted, never in the clear', async () => {
  const dir = tmpDir('coffer-wrap');
  const server = await startDevServer({ dataDir: dir });
  const canary = `canary-${Math.random().toString(36).slice(2)}-wrapped`;
  const info = await wrap(server, { canary });
  await server.server.close();
  for (const file of readdirSync(dir)) {
    assert.ok(!readFileSync(join(dir, file)).includes(canary), `${file} holds the canary`);
    assert.ok(!readFileSync(join(dir, file)).includes(info.token), `${file} holds the wrapping token`);
  }
  const again = await startDevServer({ dataDir: dir });
  assert.deepEqual((await again.call('POST', 'sys/wrapping/unwrap', { token: info.token })).body.data, { canary });
});
