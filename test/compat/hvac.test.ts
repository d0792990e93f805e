import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startConfiguredServer, sqliteConfig } from '../helpers/server.js';
import { tmpDir } from '../helpers/tmp.js';
import { hvacPython, runPython } from './python.js';

const py = hvacPython();

test('hvac drives init, unseal, seal-status, health, rotate and seal', { skip: 'skip' in py ? py.skip : false }, async () => {
  if (!('python' in py)) return;
  const s = await startConfiguredServer(sqliteConfig(join(tmpDir('hvac-seal'), 'coffer.db')));
  const out = await runPython(py.python, join(import.meta.dirname, 'hvac_seal.py'), { VAULT_ADDR: s.addr });
  assert.deepEqual(out, {
    initialized_before: false, health_uninit: 501, num_keys: 5, initialized_after: true, sealed_after_init: true,
    t: 3, n: 5, progress_1: 1, sealed_after_quorum: false, is_sealed: false, health_active: true, health_head: 200,
    authenticated: true, key_status_term: 1, key_status_term_after_rotate: 2, sealed_after_seal: true,
    health_sealed: 503, bad_key: 'InvalidRequest', sealed_after_reunseal: false,
  });
});
