import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { startDevServer } from '../helpers/server.js';
import { hvacPython, runPython } from './python.js';

const py = hvacPython();

test('hvac drives the transit engine: keys, crypto, signatures, export, backup', { skip: 'skip' in py ? py.skip : false }, async () => {
  if (!('python' in py)) return;
  const s = await startDevServer();
  assert.equal((await s.call('POST', 'sys/mounts/transit', { type: 'transit' })).status, 204);
  const out = await runPython(py.python, join(import.meta.dirname, 'hvac_transit.py'), { VAULT_ADDR: s.addr, VAULT_TOKEN: s.rootToken });
  assert.deepEqual(out, {
    read_type: 'aes256-gcm96', read_latest: 1, list: ['orders', 'signer', 'tenants'],
    ct_prefix: 'vault:v1:', decrypted: 'order #1', batch_count: 2, derived_roundtrip: 'doc', derived_without_context: 'InvalidRequest',
    rewrapped_prefix: 'vault:v2:', old_ciphertext: 'InvalidRequest', rewrapped_decrypted: 'order #1', min_available: 2,
    datakey_len: 32, datakey_matches: true, wrapped_has_plaintext: false,
    hmac_valid: true, sig_valid: true, sig_tampered: false, rsa_valid: true,
    random_len: 24, hash: createHash('sha256').update('abc').digest('hex'),
    export_versions: ['1'], export_not_exportable: 'InvalidRequest', restored_type: 'ecdsa-p256', restored_verifies: true,
    deleted: true,
  });
});
