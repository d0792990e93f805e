import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import nodeVault from 'node-vault';
import { startConfiguredServer, sqliteConfig, type TestServer } from '../helpers/server.js';
import { tmpDir } from '../helpers/tmp.js';
import { hvacPython, runPython } from './python.js';

const py = hvacPython();

/** An initialized (3/2) and unsealed server on a real SQLite file, with its unseal keys. */
async function unsealedServer(name: string): Promise<{ s: TestServer; keys: string[] }> {
  const s = await startConfiguredServer(sqliteConfig(join(tmpDir(name), 'coffer.db')));
  const init = await s.call('PUT', 'sys/init', { secret_shares: 3, secret_threshold: 2 });
  const keys = init.body.keys_base64 as string[];
  for (const k of keys.slice(0, 2)) await s.call('PUT', 'sys/unseal', { key: k });
  return { s, keys };
}

function decode(encoded: string, otp: string): string {
  return Buffer.from(Buffer.from(encoded, 'base64').map((b, i) => b ^ otp.charCodeAt(i))).toString('utf8');
}

test('node-vault generateRootInit/Update/Cancel (it has no status call: a generic read)', async () => {
  const { s, keys } = await unsealedServer('generate-root-node-vault');
  const v = nodeVault({ endpoint: s.addr });

  const before = await v.read('sys/generate-root/attempt');
  assert.equal(before.started, false);
  assert.equal(before.otp_length, 28);

  const init = await v.generateRootInit({});
  assert.equal(init.started, true);
  const otp = init.otp as string;
  assert.equal(otp.length, 28);
  const first = await v.generateRootUpdate({ key: keys[2], nonce: init.nonce });
  assert.equal(first.progress, 1);
  assert.equal(first.complete, false);
  assert.equal((await v.read('sys/generate-root/attempt')).progress, 1);
  const done = await v.generateRootUpdate({ key: keys[0], nonce: init.nonce });
  assert.equal(done.complete, true);
  const token = decode(done.encoded_token, otp);
  const self = await nodeVault({ endpoint: s.addr, token }).tokenLookupSelf();
  assert.deepEqual(self.data.policies, ['root']);

  await v.generateRootInit({ otp: 'A'.repeat(28) });
  assert.equal((await v.read('sys/generate-root/attempt')).started, true);
  await v.generateRootCancel();
  assert.equal((await v.read('sys/generate-root/attempt')).started, false);
});

test('hvac start_root_token_generation / generate_root / read_root_generation_progress / cancel_root_generation',
  { skip: 'skip' in py ? py.skip : false }, async () => {
    if (!('python' in py)) return;
    const { s, keys } = await unsealedServer('generate-root-hvac');
    const out = await runPython(py.python, join(import.meta.dirname, 'hvac_generate_root.py'), { VAULT_ADDR: s.addr, UNSEAL_KEYS: keys.join(',') });
    assert.deepEqual(out, {
      started_before: false, otp_length: 28, required: 2, started: true, wrong_nonce: 'InvalidRequest', progress_1: 1,
      complete_1: false, read_progress: 1, complete: true, authenticated: true, policies: ['root'], started_again: true,
      started_after_cancel: false,
    });
  });
