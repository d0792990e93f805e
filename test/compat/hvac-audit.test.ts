import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startDevServer } from '../helpers/server.js';
import { tmpDir } from '../helpers/tmp.js';
import { hvacPython, runPython } from './python.js';

const py = hvacPython();

test('hvac drives the audit endpoints: enable, list, calculate_hash, disable', { skip: 'skip' in py ? py.skip : false }, async () => {
  if (!('python' in py)) return;
  const s = await startDevServer();
  const file = join(tmpDir('hvac-audit'), 'audit.log');
  const out = await runPython(py.python, join(import.meta.dirname, 'hvac_audit.py'), { VAULT_ADDR: s.addr, VAULT_TOKEN: s.rootToken, AUDIT_FILE: file });
  assert.deepEqual(out, {
    enable_status: 204, enable_path_status: 204, listed: ['file/', 'second/'], listed_top_level: true,
    file_type: 'file', file_description: 'hvac file device', file_options: { file_path: file, hmac_accessor: 'false' },
    hash_prefix: 'hmac-sha256', token_hash_in_log: true, duplicate: 'InvalidRequest', unknown_type: 'InvalidRequest',
    disable_status: 204, after_disable: ['file/'],
  });
});
