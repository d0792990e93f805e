import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startConfiguredServer, sqliteConfig } from '../helpers/server.js';
import { tmpDir } from '../helpers/tmp.js';
import { coffer, expectExit } from '../cli/cli-runner.js';

/** What `vault operator generate-root -decode` does: base64 (unpadded) of token XOR otp. */
function decode(encoded: string, otp: string): string {
  const e = Buffer.from(encoded, 'base64');
  assert.equal(e.length, otp.length, 'the encoded token is as long as the OTP');
  return Buffer.from(e.map((b, i) => b ^ otp.charCodeAt(i))).toString('utf8');
}

test('sys/generate-root over HTTP: init 3/2, attempt, wrong shares, nonce, completion, cancel', async (t) => {
  const s = await startConfiguredServer(sqliteConfig(join(tmpDir('generate-root-http'), 'coffer.db')));
  const init = await s.call('PUT', 'sys/init', { secret_shares: 3, secret_threshold: 2 });
  const { keys, keys_base64: b64, root_token: firstRoot } = init.body as { keys: string[]; keys_base64: string[]; root_token: string };

  await t.test('sealed: no attempt can start or be read', async () => {
    assert.equal((await s.call('GET', 'sys/generate-root/attempt')).status, 503);
    assert.equal((await s.call('PUT', 'sys/generate-root/attempt', {})).status, 503);
  });
  for (const k of keys.slice(0, 2)) assert.equal((await s.call('PUT', 'sys/unseal', { key: k })).status, 200);

  await t.test('status before any attempt; methods outside the table are refused', async () => {
    const r = await s.call('GET', 'sys/generate-root/attempt');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, {
      started: false, nonce: '', progress: 0, required: 2, complete: false, encoded_token: '', encoded_root_token: '',
      pgp_fingerprint: '', otp: '', otp_length: 28,
    });
    assert.equal((await s.call('GET', 'sys/generate-root/update')).status, 405);
    assert.equal((await s.call('PUT', 'sys/generate-root/update', { key: keys[0], nonce: 'x' })).status, 400, 'no attempt in progress');
  });

  await t.test('a wrong-length OTP and a PGP key are refused', async () => {
    const short = await s.call('PUT', 'sys/generate-root/attempt', { otp: 'abc' });
    assert.equal(short.status, 400);
    assert.match(short.body.errors[0], /OTP string is wrong length/);
    assert.equal((await s.call('PUT', 'sys/generate-root/attempt', { pgp_key: 'mQENBF...' })).status, 400);
    assert.equal((await s.call('GET', 'sys/generate-root/attempt')).body.started, false);
  });

  let root2 = '';
  await t.test('generated OTP: wrong share and nonce refused without progress, then completion', async () => {
    const started = await s.call('POST', 'sys/generate-root/attempt', {});
    assert.equal(started.status, 200);
    const { otp, nonce } = started.body as { otp: string; nonce: string };
    assert.match(otp, /^[0-9A-Za-z]{28}$/);
    assert.equal(started.body.started, true);
    assert.equal(started.body.otp_length, 28);
    assert.equal((await s.call('GET', 'sys/generate-root/attempt')).body.otp, '', 'the OTP is shown once');
    assert.equal((await s.call('PUT', 'sys/generate-root/attempt', {})).status, 400, 'one attempt at a time');

    const wrong = Buffer.from(keys[0]!, 'hex');
    wrong[3] = wrong[3]! ^ 0x55;
    assert.equal((await s.call('PUT', 'sys/generate-root/update', { key: wrong.toString('hex'), nonce })).status, 400);
    assert.equal((await s.call('PUT', 'sys/generate-root/update', { key: 'not a key', nonce })).status, 400);
    const badNonce = await s.call('PUT', 'sys/generate-root/update', { key: keys[0], nonce: 'nope' });
    assert.equal(badNonce.status, 400);
    assert.match(badNonce.body.errors[0], /incorrect nonce/);
    assert.equal((await s.call('GET', 'sys/generate-root/attempt')).body.progress, 0);

    const one = await s.call('PUT', 'sys/generate-root/update', { key: b64[1], nonce });
    assert.equal(one.status, 200);
    assert.equal(one.body.progress, 1);
    assert.equal(one.body.complete, false);
    assert.equal(one.body.encoded_token, '');
    const dup = await s.call('PUT', 'sys/generate-root/update', { key: keys[1], nonce });
    assert.equal(dup.status, 400, 'the same share twice is refused');
    assert.equal((await s.call('GET', 'sys/generate-root/attempt')).body.progress, 1);

    const done = await s.call('POST', 'sys/generate-root/update', { key: keys[2], nonce });
    assert.equal(done.status, 200);
    assert.equal(done.body.complete, true);
    assert.equal(done.body.progress, 2);
    assert.equal(done.body.required, 2);
    assert.equal(done.body.encoded_root_token, done.body.encoded_token);
    assert.doesNotMatch(done.body.encoded_token, /=/, 'unpadded base64 as in Vault');
    root2 = decode(done.body.encoded_token, otp);
    assert.match(root2, /^cfs\.[0-9A-Za-z]{24}$/);
    assert.notEqual(root2, firstRoot);
    assert.equal((await s.call('GET', 'sys/generate-root/attempt')).body.started, false, 'the attempt is over');
  });

  await t.test('the new root token works', async () => {
    const self = await s.call('GET', 'auth/token/lookup-self', undefined, { 'X-Vault-Token': root2 });
    assert.equal(self.status, 200);
    assert.deepEqual(self.body.data.policies, ['root']);
    assert.equal(self.body.data.ttl, 0);
    assert.equal(self.body.data.path, 'auth/token/root');
    const mounts = await s.call('GET', 'sys/mounts', undefined, { 'X-Vault-Token': root2 });
    assert.equal(mounts.status, 200);
  });

  await t.test('caller-chosen OTP; cancel discards the progress', async () => {
    const otp = 'abcdefghijklmnopqrstuvwxyz01';
    const started = await s.call('PUT', 'sys/generate-root/attempt', { otp });
    assert.equal(started.status, 200);
    assert.equal(started.body.otp, '', 'a chosen OTP is not echoed');
    const nonce = started.body.nonce as string;
    assert.equal((await s.call('PUT', 'sys/generate-root/update', { key: keys[0], nonce })).body.progress, 1);
    assert.equal((await s.call('DELETE', 'sys/generate-root/attempt')).status, 204);
    const after = await s.call('GET', 'sys/generate-root/attempt');
    assert.equal(after.body.started, false);
    assert.equal(after.body.progress, 0);
    assert.equal((await s.call('PUT', 'sys/generate-root/update', { key: keys[1], nonce })).status, 400);

    const again = await s.call('PUT', 'sys/generate-root/attempt', { otp });
    const n2 = again.body.nonce as string;
    assert.notEqual(n2, nonce);
    await s.call('PUT', 'sys/generate-root/update', { key: keys[0], nonce: n2 });
    const done = await s.call('PUT', 'sys/generate-root/update', { key: keys[1], nonce: n2 });
    const root3 = decode(done.body.encoded_token, otp);
    assert.equal((await s.call('GET', 'auth/token/lookup-self', undefined, { 'X-Vault-Token': root3 })).body.data.policies[0], 'root');
  });

  await t.test('CLI: --init, a key per call, --decode gives a working root token; --status, --cancel', async () => {
    const env = { addr: s.addr };
    const init = expectExit(await coffer(['operator', 'generate-root', '--init', '--format', 'json'], env), 0, 'init');
    const { otp, nonce } = JSON.parse(init.stdout) as { otp: string; nonce: string };
    assert.equal(otp.length, 28);
    const status = expectExit(await coffer(['operator', 'generate-root', '--status'], env), 0, 'status');
    assert.match(status.stdout, new RegExp(`Nonce\\s+${nonce}`));
    assert.match(status.stdout, /Progress\s+0\/2/);
    const first = expectExit(await coffer(['operator', 'generate-root', keys[0]!], env), 0, 'first key');
    assert.match(first.stdout, /Progress\s+1\/2/);
    const last = expectExit(await coffer(['operator', 'generate-root'], env, `${b64[2]}\n`), 0, 'last key (stdin)');
    const encoded = /Encoded Token\s+(\S+)/.exec(last.stdout)?.[1];
    assert.ok(encoded, last.stdout);
    const decoded = expectExit(await coffer(['operator', 'generate-root', '--decode', encoded, '--otp', otp], env), 0, 'decode');
    const token = decoded.stdout.trim();
    assert.equal(token, decode(encoded, otp));
    assert.deepEqual((await s.call('GET', 'auth/token/lookup-self', undefined, { 'X-Vault-Token': token })).body.data.policies, ['root']);

    expectExit(await coffer(['operator', 'generate-root', '--init', '--otp', 'x'.repeat(28)], env), 0, 'init with otp');
    expectExit(await coffer(['operator', 'generate-root', '--cancel'], env), 0, 'cancel');
    assert.equal((await s.call('GET', 'sys/generate-root/attempt')).body.started, false);
    expectExit(await coffer(['operator', 'generate-root', '--init', '--pgp-key', 'k'], env), 1, 'pgp refused');
  });

  await t.test('sealing discards an attempt', async () => {
    const started = await s.call('PUT', 'sys/generate-root/attempt', {});
    assert.equal(started.status, 200);
    assert.equal((await s.call('PUT', 'sys/seal', undefined, { 'X-Vault-Token': firstRoot })).status, 204);
    for (const k of keys.slice(1, 3)) await s.call('PUT', 'sys/unseal', { key: k });
    assert.equal((await s.call('GET', 'sys/generate-root/attempt')).body.started, false);
    // The generated root token survives the seal: it is stored like any token.
    assert.equal((await s.call('GET', 'auth/token/lookup-self', undefined, { 'X-Vault-Token': root2 })).status, 200);
  });
});
