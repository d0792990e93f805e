import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { envelope, sealStatus, startFakeVault } from '../helpers/fake-vault.js';
import type { FakeVault } from '../helpers/fake-vault.js';
import { tmpDir } from '../helpers/tmp.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const TOKEN = 'hvs.cli-test-token-abcdef0123';

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `coffer ...` as a child process (async, so the in-process fake can answer it). */
function coffer(args: string[], env: Record<string, string>, stdin?: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      env: { PATH: process.env['PATH'] ?? '', HOME: tmpDir('coffer-cli-home'), ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

const envFor = (fake: FakeVault): Record<string, string> => ({ COFFER_ADDR: fake.address, COFFER_TOKEN: TOKEN });

const SEAL_STATUS_KEYS = [
  'Seal Type', 'Initialized', 'Sealed', 'Total Shares', 'Threshold', 'Unseal Progress', 'Unseal Nonce', 'Version', 'Storage Type', 'HA Enabled',
];

test('status: exit 2 when sealed, with the Key/Value table', async () => {
  const fake = await startFakeVault({
    'GET /v1/sys/seal-status': { status: 200, body: sealStatus(true) },
    'GET /v1/sys/leader': { status: 503, body: { errors: ['Vault is sealed'] } },
  });
  const r = await coffer(['status'], envFor(fake));
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
  const fake = await startFakeVault({
    'GET /v1/sys/seal-status': { status: 200, body: sealStatus(false) },
    'GET /v1/sys/leader': { status: 200, body: { ha_enabled: false, is_self: true, leader_address: '' } },
  });
  const table = await coffer(['status'], envFor(fake));
  assert.equal(table.code, 0, table.stderr);
  assert.doesNotMatch(table.stdout, /Unseal Progress/);
  assert.match(table.stdout, /HA Enabled\s+false/);
  for (const args of [['status', '--format', 'json'], ['-format=json', 'status']]) {
    const r = await coffer(args, envFor(fake));
    assert.equal(r.code, 0, r.stderr);
    const body = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(body['sealed'], false);
    assert.equal(body['ha_enabled'], false);
  }
  const viaEnv = await coffer(['status'], { ...envFor(fake), COFFER_FORMAT: 'json' });
  assert.equal((JSON.parse(viaEnv.stdout) as Record<string, unknown>)['type'], 'shamir');
});

test('status: exit 1 on an error, with the server errors on stderr and no token', async () => {
  const fake = await startFakeVault({ 'GET /v1/sys/seal-status': { status: 500, body: { errors: ['storage is on fire'] } } });
  const r = await coffer(['status'], envFor(fake));
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^Error checking seal status: Error making API request\./);
  assert.match(r.stderr, /Code: 500\. Errors:\n\n\* storage is on fire/);
  assert.ok(!r.stderr.includes(TOKEN));
});

test('--address overrides COFFER_ADDR', async () => {
  const fake = await startFakeVault({ 'GET /v1/sys/seal-status': { status: 200, body: sealStatus(false) } });
  const r = await coffer(['status', '--address', fake.address], { COFFER_ADDR: 'http://127.0.0.1:9', VAULT_TOKEN: TOKEN });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(fake.requests[0]?.headers['x-vault-token'], TOKEN);
});

test('operator init: keys, root token and advice; --format json has Vault\'s fields', async () => {
  const fake = await startFakeVault({
    'PUT /v1/sys/init': (req) => {
      const { secret_shares: n } = req.body as { secret_shares: number };
      const hex = Array.from({ length: n }, (_, i) => `0${i}`);
      return { status: 200, body: { keys: hex, keys_base64: hex.map((h) => Buffer.from(h, 'hex').toString('base64')), root_token: 'hvs.root' } };
    },
  });
  const text = await coffer(['operator', 'init', '--key-shares', '3', '--key-threshold', '2'], envFor(fake));
  assert.equal(text.code, 0, text.stderr);
  assert.deepEqual(fake.requests[0]?.body, { secret_shares: 3, secret_threshold: 2 });
  assert.match(text.stdout, /^Unseal Key 1: AA==\nUnseal Key 2: AQ==\nUnseal Key 3: Ag==\n\nInitial Root Token: hvs\.root\n/);
  assert.match(text.stdout, /key threshold of 2/);

  const json = await coffer(['operator', 'init', '--format', 'json'], envFor(fake));
  const body = JSON.parse(json.stdout) as Record<string, unknown>;
  assert.equal((body['unseal_keys_b64'] as unknown[]).length, 5);
  assert.deepEqual(body['unseal_keys_hex'], ['00', '01', '02', '03', '04']);
  assert.equal(body['unseal_shares'], 5);
  assert.equal(body['unseal_threshold'], 3);
  assert.equal(body['root_token'], 'hvs.root');

  const bad = await coffer(['operator', 'init', '--key-shares', 'many'], envFor(fake));
  assert.equal(bad.code, 1);
});

test('operator unseal: the key from the argument or from piped stdin, then the status table', async () => {
  const fake = await startFakeVault({
    'PUT /v1/sys/unseal': { status: 200, body: sealStatus(true) },
    'GET /v1/sys/leader': { status: 503, body: { errors: ['sealed'] } },
  });
  const arg = await coffer(['operator', 'unseal', 'a2V5LW9uZQ=='], envFor(fake));
  assert.equal(arg.code, 0, arg.stderr);
  assert.match(arg.stdout, /Unseal Progress\s+1\/3/);
  const piped = await coffer(['operator', 'unseal'], envFor(fake), 'a2V5LXR3bw==\nignored\n');
  assert.equal(piped.code, 0, piped.stderr);
  const bodies = fake.requests.filter((r) => r.method === 'PUT').map((r) => r.body);
  assert.deepEqual(bodies, [{ key: 'a2V5LW9uZQ==' }, { key: 'a2V5LXR3bw==' }]);
});

test('operator rekey: --init, a key per call, the new keys at the end', async () => {
  let progress = 0;
  const fake = await startFakeVault({
    'PUT /v1/sys/rekey/init': { status: 200, body: { nonce: 'n1', started: true, t: 2, n: 3, progress: 0, required: 3 } },
    'GET /v1/sys/rekey/init': () => ({ status: 200, body: { nonce: 'n1', started: true, t: 2, n: 3, progress, required: 3 } }),
    'PUT /v1/sys/rekey/update': () => {
      progress += 1;
      return progress < 3
        ? { status: 200, body: { nonce: 'n1', started: true, t: 2, n: 3, progress, required: 3 } }
        : { status: 200, body: { nonce: 'n1', complete: true, keys: ['01', '02', '03'], keys_base64: ['AQ==', 'Ag==', 'Aw=='] } };
    },
  });
  const init = await coffer(['operator', 'rekey', '-init', '--key-shares', '3', '--key-threshold', '2'], envFor(fake));
  assert.equal(init.code, 0, init.stderr);
  assert.match(init.stdout, /Nonce\s+n1/);
  assert.deepEqual(fake.requests[0]?.body, { secret_shares: 3, secret_threshold: 2 });
  const first = await coffer(['operator', 'rekey', 'k1'], envFor(fake));
  assert.match(first.stdout, /Rekey Progress\s+1\/3/);
  await coffer(['operator', 'rekey', 'k2'], envFor(fake));
  const last = await coffer(['operator', 'rekey', 'k3'], envFor(fake));
  assert.equal(last.code, 0, last.stderr);
  assert.match(last.stdout, /^Key 1: AQ==\nKey 2: Ag==\nKey 3: Aw==\n/);
  assert.match(last.stdout, /key threshold of 2/);
  const updates = fake.requests.filter((r) => r.path === '/v1/sys/rekey/update').map((r) => r.body);
  assert.deepEqual(updates, [{ key: 'k1', nonce: 'n1' }, { key: 'k2', nonce: 'n1' }, { key: 'k3', nonce: 'n1' }]);
});

test('read: a table with refresh_interval and the data keys; JSON is the envelope; missing is exit 2', async () => {
  const fake = await startFakeVault({
    'GET /v1/secret/app': { status: 200, body: envelope({ password: 's3cret', list: ['a', 'b'] }, { lease_duration: 2764800 }) },
    'GET /v1/secret/denied': { status: 403, body: { errors: ['permission denied'] } },
  });
  const r = await coffer(['read', 'secret/app'], envFor(fake));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Key\s+Value\n---\s+-----\nrefresh_interval\s+768h\nlist\s+\[a b\]\npassword\s+s3cret\n$/);
  const json = await coffer(['read', 'secret/app', '--format', 'json'], envFor(fake));
  assert.deepEqual((JSON.parse(json.stdout) as { data: unknown }).data, { password: 's3cret', list: ['a', 'b'] });

  const missing = await coffer(['read', 'secret/nothing'], envFor(fake));
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /No value found at secret\/nothing/);
  const denied = await coffer(['read', 'secret/denied'], envFor(fake));
  assert.equal(denied.code, 2);
  assert.match(denied.stderr, /^Error reading secret\/denied: Error making API request\.[\s\S]*\* permission denied/);
});

test('write: k=v, k=@file, - (JSON on stdin); delete; usage errors exit 1', async () => {
  const fake = await startFakeVault({ 'PUT /v1/secret/app': { status: 204 }, 'DELETE /v1/secret/app': { status: 204 } });
  const file = join(tmpDir('coffer-cli-data'), 'cert.pem');
  writeFileSync(file, 'PEM-DATA');
  const w = await coffer(['write', 'secret/app', 'user=alice', `cert=@${file}`, 'tag=a', 'tag=b'], envFor(fake));
  assert.equal(w.code, 0, w.stderr);
  assert.equal(w.stdout, 'Success! Data written to: secret/app\n');
  assert.deepEqual(fake.requests[0]?.body, { user: 'alice', cert: 'PEM-DATA', tag: ['a', 'b'] });
  const s = await coffer(['write', 'secret/app', '-'], envFor(fake), '{"nested":{"n":1}}');
  assert.equal(s.code, 0, s.stderr);
  assert.deepEqual(fake.requests[1]?.body, { nested: { n: 1 } });
  const d = await coffer(['delete', 'secret/app'], envFor(fake));
  assert.equal(d.stdout, 'Success! Data deleted (if it existed) at: secret/app\n');

  const noData = await coffer(['write', 'secret/app'], envFor(fake));
  assert.equal(noData.code, 1);
  assert.match(noData.stderr, /Must supply data or use --force/);
  const badPair = await coffer(['write', 'secret/app', 'novalue'], envFor(fake));
  assert.equal(badPair.code, 1);
  const unknown = await coffer(['frobnicate'], envFor(fake));
  assert.equal(unknown.code, 1);
  assert.equal(fake.requests.length, 3, 'usage errors send nothing');
});
