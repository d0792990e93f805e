import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { startDevServer, type TestServer } from '../helpers/server.js';
import { tmpDir } from '../helpers/tmp.js';
import { coffer as runCli, type CliResult } from '../cli/cli-runner.js';

const dir = tmpDir('audit-cli');

function coffer(s: TestServer, args: string[]): Promise<CliResult> {
  return runCli(args, { addr: s.addr, token: s.rootToken, home: dir });
}

test('coffer audit enable / list / tail / disable against a real server', async () => {
  const s = await startDevServer();
  const log = join(dir, 'audit.log');
  const enabled = await coffer(s, ['audit', 'enable', '-path=ops', '--description', 'ops log', 'file', `file_path=${log}`, 'fsync=true']);
  assert.equal(enabled.code, 0, enabled.stderr);
  assert.equal(enabled.stdout.trim(), 'Success! Enabled the file audit device at: ops/');

  await s.call('POST', 'secret/data/cli', { data: { v: 'x' } });
  await s.call('GET', 'secret/data/cli', undefined, { 'X-Vault-Token': 'wrong-token' });

  const list = await coffer(s, ['audit', 'list', '--detailed']);
  assert.equal(list.code, 0, list.stderr);
  const [header, rule, row] = list.stdout.trim().split('\n');
  assert.match(header!, /^Path\s+Type\s+Description\s+Replication\s+Options$/);
  assert.match(rule!, /^-+\s+-+/);
  assert.match(row!, new RegExp(`^ops/\\s+file\\s+ops log\\s+replicated\\s+map\\[file_path:${log} fsync:true\\]$`));

  const tail = await coffer(s, ['audit', 'tail', log, '--filter-path', 'secret/']);
  assert.equal(tail.code, 0, tail.stderr);
  const lines = tail.stdout.trim().split('\n');
  assert.equal(lines.length, 4, tail.stdout);
  assert.ok(lines.every((l) => l.includes('secret/data/cli')));
  assert.match(lines[3]!, /response\s+read\s+secret\/data\/cli\s+-\s+127\.0\.0\.1\s+error: permission denied$/);
  const byRoot = await coffer(s, ['audit', 'tail', log, '--identity', 'root', '--format', 'json']);
  const entries = byRoot.stdout.trim().split('\n').map((l) => JSON.parse(l) as { auth: { display_name: string } });
  assert.ok(entries.length >= 2 && entries.every((e) => e.auth.display_name === 'root'));

  const verified = await coffer(s, ['audit', 'verify', '--server', log]);
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);

  const disabled = await coffer(s, ['audit', 'disable', 'ops']);
  assert.equal(disabled.stdout.trim(), 'Success! Disabled audit device (if it was enabled) at: ops/');
  const empty = await coffer(s, ['audit', 'list']);
  assert.equal(empty.code, 2);
  assert.equal(empty.stdout.trim(), 'No audit devices are enabled.');

  const bad = await coffer(s, ['audit', 'enable', 'file', 'file_path=relative.log']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^Error enabling audit device: .*file_path must be an absolute path/s);
});
