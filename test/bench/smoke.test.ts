import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir } from '../helpers/tmp.js';

// The benchmark harness runs in smoke mode so it cannot rot. It asserts the harness ran and
// produced numbers — never a speed.
const root = join(import.meta.dirname, '..', '..');
const built = existsSync(join(root, 'dist', 'cli', 'main.js'));

test('bench --quick runs the baselines and a Coffer scenario and writes numbers', { skip: built ? false : 'needs `npm run build`' }, async () => {
  const out = tmpDir('bench-smoke');
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench', 'run.ts'), '--quick', '--only=baseline,kv v2 read', `--out=${out}`], { stdio: 'ignore' });
    child.on('close', resolve);
  });
  assert.equal(code, 0);
  const [file] = readdirSync(out);
  assert.ok(file, 'a results file was written');
  const result = JSON.parse(readFileSync(join(out, file), 'utf8')) as { rows: Array<{ scenario: string; kind: string; summary?: { median: { reqPerSec: number; p99: number } } }> };
  const names = result.rows.map((r) => r.scenario);
  for (const n of ['baseline: node:http hello', 'baseline: fastify hello', 'kv v2 read (policy token)']) assert.ok(names.includes(n), `${n} ran`);
  for (const r of result.rows.filter((row) => row.kind === 'load')) {
    assert.ok(r.summary && r.summary.median.reqPerSec > 0 && Number.isFinite(r.summary.median.p99), `${r.scenario} produced numbers`);
  }
});
