import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startFakeVault } from '../helpers/fake-vault.js';
import { ok, sqliteConfig, startConfiguredServer, type TestServer } from '../helpers/server.js';
import { tmpDir } from '../helpers/tmp.js';
import { coffer, type CliEnv } from './cli-runner.js';

// `coffer status`, `operator init|unseal|rekey`, `read`, `write`, `delete` against a real server
// (SQLite, not initialized until the CLI or the test does it). Only the failing-server case uses
// a stand-in, because a real server cannot be made to answer seal-status with a 500.

const SEAL_STATUS_KEYS = [
  'Seal Type', 'Initialized', 'Sealed', 'Total Shares', 'Threshold', 'Unseal Progress', 'Unseal Nonce', 'Version', 'Storage Type', 'HA Enabled',
];

const fresh = (): Promise<TestServer> => startConfiguredServer(sqliteConfig(join(tmpDir('coffer-cli-server'), 'coffer.db')));

interface Initialized { s: TestServer; keys: string[]; root: string }

async function initialized(shares: number, threshold: number, unsealWith = 0): Promise<Initialized> {
  const s = await fresh();
  const init = await ok(s.call('PUT', 'sys/init', { secret_shares: shares, secret_threshold: threshold }), 200);
  const keys = init.keys_base64 as string[];
  for (const key of keys.slice(0, unsealWith)) await ok(s.call('PUT', 'sys/unseal', { key }), 200);
  return { s, keys, root: init.root_token as string };
}

const sealStatus = async (s: TestServer): Promise<Record<string, unknown>> => ok(s.call('GET', 'sys/seal-status'), 200);
const envOf = (s: TestServer, token?: string): CliEnv => ({ addr: s.addr, ...(token === undefined ? {} : { token }) });
/** A call with `token` (the test servers here have no root token of their own). */
const as = (s: TestServer, token: string) => (method: string, path: string, body?: unknown) => s.call(method, path, body, { 'X-Vault-Token': token });

test('status: exit 2 when sealed, with the Key/Value table', async () => {
  const { s } = await initialized(5, 3, 1);
  const r = await coffer(['status'], envOf(s));
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stdout.split('\n');
  assert.match(lines[0] ?? '', /^Key\s+Value$/);
  for (const key of SEAL_STATUS_KEYS) assert.ok(lines.some((l) => l.startsWith(`${key} `)), `missing ${key} in\n${r.stdout}`);
  assert.match(r.stdout, /Unseal Progress\s+1\/3/);
  // Columns are aligned: every value starts at the same offset.
  const offsets = lines.filter((l) => l !== '').map((l) => /^\S+(?: \S+)*\s{4,}/.exec(l)?.[0].length);
  assert.equal(new Set(offsets).size, 1, r.stdout);
});

test('status: exit 0 when unsealed; --format json (and Vault-style -format=json) parses', async () => {
  const { s } = await initialized(1, 1, 1);
  const table = await coffer(['status'], envOf(s));
  assert.equal(table.code, 0, table.stderr);
  assert.doesNotMatch(table.stdout, /Unseal Progress/);
  assert.match(table.stdout, /HA Enabled\s+false/);
  for (const args of [['status', '--format', 'json'], ['-format=json', 'status']]) {
    const r = await coffer(args, envOf(s));
    assert.equal(r.code, 0, r.stderr);
    const body = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(body['sealed'], false);
    assert.equal(body['ha_enabled'], false);
  }
  const viaEnv = await coffer(['status'], { ...envOf(s), extra: { COFFER_FORMAT: 'json' } });
  assert.equal((JSON.parse(viaEnv.stdout) as Record<string, unknown>)['type'], 'shamir');
});

test('status: exit 1 on an error, with the server errors on stderr and no token', async () => {
  const token = 'cfs.cli-test-token-abcdef0123';
  const fake = await startFakeVault({ 'GET /v1/sys/seal-status': { status: 500, body: { errors: ['storage is on fire'] } } });
  const r = await coffer(['status'], { addr: fake.address, token });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^Error checking seal status: Error making API request\./);
  assert.match(r.stderr, /Code: 500\. Errors:\n\n\* storage is on fire/);
  assert.ok(!r.stderr.includes(token));
});

test('--address overrides COFFER_ADDR, and VAULT_TOKEN is the token sent', async () => {
  const { s, root } = await initialized(1, 1, 1);
  await ok(as(s, root)('POST', 'sys/mounts/kv1', { type: 'kv', options: { version: '1' } }));
  await ok(as(s, root)('PUT', 'kv1/app', { who: 'me' }));
  const r = await coffer(['read', '-field=who', 'kv1/app', '--address', s.addr], { addr: 'http://127.0.0.1:9', extra: { VAULT_TOKEN: root } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'me');
  // Without the token the same read is refused: it was VAULT_TOKEN that got it through.
  const anon = await coffer(['read', 'kv1/app', '--address', s.addr], { addr: 'http://127.0.0.1:9' });
  assert.equal(anon.code, 2);
});

test('operator init: keys, root token and advice; --format json has Vault\'s fields; the keys unseal', async () => {
  const s = await fresh();
  const text = await coffer(['operator', 'init', '--key-shares', '3', '--key-threshold', '2'], envOf(s));
  assert.equal(text.code, 0, text.stderr);
  const status = await sealStatus(s);
  assert.deepEqual([status['initialized'], status['n'], status['t']], [true, 3, 2], 'the server got 3 shares, threshold 2');
  const m = /^Unseal Key 1: (\S+)\nUnseal Key 2: (\S+)\nUnseal Key 3: (\S+)\n\nInitial Root Token: (cfs\.\S+)\n/.exec(text.stdout);
  assert.ok(m, text.stdout);
  assert.match(text.stdout, /key threshold of 2/);
  for (const key of [m[1], m[3]]) await ok(s.call('PUT', 'sys/unseal', { key }), 200);
  assert.equal((await sealStatus(s))['sealed'], false, 'two printed keys unseal it');
  assert.equal((await as(s, m[4]!)('GET', 'auth/token/lookup-self')).status, 200, 'the printed root token works');

  const other = await fresh();
  const json = await coffer(['operator', 'init', '--format', 'json'], envOf(other));
  const body = JSON.parse(json.stdout) as Record<string, unknown>;
  const b64 = body['unseal_keys_b64'] as string[];
  assert.equal(b64.length, 5);
  assert.deepEqual(body['unseal_keys_hex'], b64.map((k) => Buffer.from(k, 'base64').toString('hex')));
  assert.equal(body['unseal_shares'], 5);
  assert.equal(body['unseal_threshold'], 3);
  assert.match(String(body['root_token']), /^cfs\./);

  const untouched = await fresh();
  const bad = await coffer(['operator', 'init', '--key-shares', 'many'], envOf(untouched));
  assert.equal(bad.code, 1);
  assert.equal((await sealStatus(untouched))['initialized'], false, 'a usage error initializes nothing');
});

test('operator unseal: the key from the argument or from piped stdin, then the status table', async () => {
  const { s, keys } = await initialized(5, 3);
  const arg = await coffer(['operator', 'unseal', keys[0]!], envOf(s));
  assert.equal(arg.code, 0, arg.stderr);
  assert.match(arg.stdout, /Unseal Progress\s+1\/3/);
  const piped = await coffer(['operator', 'unseal'], envOf(s), `${keys[1]}\nignored\n`);
  assert.equal(piped.code, 0, piped.stderr);
  assert.match(piped.stdout, /Unseal Progress\s+2\/3/);
  // Each call sent one key, the first line of stdin only: the server counts exactly two.
  assert.equal((await sealStatus(s))['progress'], 2);
  const last = await coffer(['operator', 'unseal', keys[2]!], envOf(s));
  assert.equal(last.code, 0, last.stderr);
  assert.equal((await sealStatus(s))['sealed'], false);
});

test('operator rekey: --init, a key per call, the new keys at the end', async () => {
  const { s, keys, root } = await initialized(3, 2, 2);
  const init = await coffer(['operator', 'rekey', '-init', '--key-shares', '3', '--key-threshold', '2'], envOf(s));
  assert.equal(init.code, 0, init.stderr);
  const nonce = /Nonce\s+(\S+)/.exec(init.stdout)?.[1];
  assert.ok(nonce, init.stdout);
  const pending = await ok(s.call('GET', 'sys/rekey/init'), 200);
  assert.deepEqual([pending.started, pending.n, pending.t, pending.nonce], [true, 3, 2, nonce], 'the server got 3 shares, threshold 2');
  const first = await coffer(['operator', 'rekey', keys[0]!], envOf(s));
  assert.match(first.stdout, /Rekey Progress\s+1\/2/);
  const last = await coffer(['operator', 'rekey', keys[1]!], envOf(s));
  assert.equal(last.code, 0, last.stderr);
  const m = /^Key 1: (\S+)\nKey 2: (\S+)\nKey 3: (\S+)\n/.exec(last.stdout);
  assert.ok(m, last.stdout);
  assert.match(last.stdout, /key threshold of 2/);
  // The new keys are the server's keys now: after a seal, two of them unseal it and an old one is refused.
  await ok(as(s, root)('PUT', 'sys/seal'));
  assert.equal((await s.call('PUT', 'sys/unseal', { key: keys[0] })).status, 400);
  for (const key of [m[2], m[3]]) await ok(s.call('PUT', 'sys/unseal', { key }), 200);
  assert.equal((await sealStatus(s))['sealed'], false);
});

test('read: a table with refresh_interval and the data keys; JSON is the envelope; missing is exit 2', async () => {
  const { s, root } = await initialized(1, 1, 1);
  await ok(as(s, root)('POST', 'sys/mounts/secret', { type: 'kv', options: { version: '1' } }));
  await ok(as(s, root)('PUT', 'secret/app', { password: 's3cret', list: ['a', 'b'] }));
  const r = await coffer(['read', 'secret/app'], envOf(s, root));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Key\s+Value\n---\s+-----\nrefresh_interval\s+768h\nlist\s+\[a b\]\npassword\s+s3cret\n$/);
  const json = await coffer(['read', 'secret/app', '--format', 'json'], envOf(s, root));
  assert.deepEqual((JSON.parse(json.stdout) as { data: unknown }).data, { password: 's3cret', list: ['a', 'b'] });

  const missing = await coffer(['read', 'secret/nothing'], envOf(s, root));
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /No value found at secret\/nothing/);
  const limited = (await ok(as(s, root)('POST', 'auth/token/create', { policies: ['default'] }), 200)).auth.client_token as string;
  const denied = await coffer(['read', 'secret/denied'], envOf(s, limited));
  assert.equal(denied.code, 2);
  assert.match(denied.stderr, /^Error reading secret\/denied: Error making API request\.[\s\S]*\* permission denied/);
});

test('write: k=v, k=@file, - (JSON on stdin); delete; usage errors exit 1', async () => {
  const { s, root } = await initialized(1, 1, 1);
  await ok(as(s, root)('POST', 'sys/mounts/secret', { type: 'kv', options: { version: '1' } }));
  const stored = async (): Promise<unknown> => {
    const r = await as(s, root)('GET', 'secret/app');
    return r.status === 404 ? undefined : (r.body as { data: unknown }).data;
  };
  const env = envOf(s, root);
  const file = join(tmpDir('coffer-cli-data'), 'cert.pem');
  writeFileSync(file, 'PEM-DATA');
  const w = await coffer(['write', 'secret/app', 'user=alice', `cert=@${file}`, 'tag=a', 'tag=b'], env);
  assert.equal(w.code, 0, w.stderr);
  assert.equal(w.stdout, 'Success! Data written to: secret/app\n');
  assert.deepEqual(await stored(), { user: 'alice', cert: 'PEM-DATA', tag: ['a', 'b'] });
  const fromStdin = await coffer(['write', 'secret/app', '-'], env, '{"nested":{"n":1}}');
  assert.equal(fromStdin.code, 0, fromStdin.stderr);
  assert.deepEqual(await stored(), { nested: { n: 1 } });
  const d = await coffer(['delete', 'secret/app'], env);
  assert.equal(d.stdout, 'Success! Data deleted (if it existed) at: secret/app\n');
  assert.equal(await stored(), undefined);

  const noData = await coffer(['write', 'secret/app'], env);
  assert.equal(noData.code, 1);
  assert.match(noData.stderr, /Must supply data or use --force/);
  const badPair = await coffer(['write', 'secret/app', 'novalue'], env);
  assert.equal(badPair.code, 1);
  const unknown = await coffer(['frobnicate'], env);
  assert.equal(unknown.code, 1);
  assert.equal(await stored(), undefined, 'usage errors write nothing');
});
