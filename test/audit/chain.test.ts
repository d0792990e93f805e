import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { chainLine, parseChainLine } from '../../src/audit/line.js';
import { verifyFiles } from '../../src/audit/verify-files.js';
import { verifyLines, type VerifyReport } from '../../src/audit/verify.js';
import { startDevServer, type TestServer } from '../helpers/server.js';
import { tmpDir } from '../helpers/tmp.js';
import { enableFile } from './helpers.js';
import { coffer as runCli, type CliResult } from '../cli/cli-runner.js';

// SECURITY.md T5: delete, edit or swap any single line of an audit file, or cut its tail, and
// `coffer audit verify` names the first bad line; an untouched file verifies.

const dir = tmpDir('audit-t5');
let server: TestServer;
/** Many checkpoints (one every 6 entries): for the offline per-line cases. */
let dense: string[];
/** Default cadence, so the server's latest checkpoint stays put while the CLI asks about it. */
let sparsePath: string;

before(async () => {
  server = await startDevServer();
  const densePath = join(dir, 'dense.log');
  sparsePath = join(dir, 'sparse.log');
  await enableFile(server, 'dense', densePath, { checkpoint_entries: '6' });
  await enableFile(server, 'sparse', sparsePath);
  for (let i = 0; i < 8; i++) {
    await server.call('POST', `secret/data/t5-${i}`, { data: { v: `value-${i}` } });
    await server.call('GET', `secret/data/t5-${i}`);
  }
  // A seal and unseal put a 'seal' and a 'resume' checkpoint in both logs; 'resume' is the latest.
  await server.call('PUT', 'sys/seal');
  await server.call('PUT', 'sys/unseal', { key: server.server.dev!.unsealKey });
  await server.call('GET', 'secret/config');
  dense = (await readFile(densePath, 'utf8')).split('\n').slice(0, -1);
});

const verify = (lines: readonly string[], text?: string): Promise<VerifyReport> =>
  verifyLines(lines.map((l, i) => ({ file: 'audit.log', line: i + 1, text: l, complete: true })).concat(
    text === undefined ? [] : [{ file: 'audit.log', line: lines.length + 1, text, complete: false }],
  ));

/** A line changed the way an attacker with the file (but not the key) would: content, then its own hash. */
function rehash(line: string, mutate: (e: Record<string, unknown>) => void, prevHash?: string): string {
  const p = parseChainLine(line)!;
  const { seq, prev_hash: prev, hash: _hash, ...rest } = p.entry;
  mutate(rest);
  return chainLine(seq as number, prevHash ?? (prev as string), JSON.stringify(rest)).text;
}

function naiveEdit(line: string): string {
  // Change one character inside the time value: still JSON, still shaped like an entry.
  return line.replace(/"time":"(\d)/, (_m, d: string) => `"time":"${(Number(d) + 1) % 10}`);
}

test('T5: the untouched log verifies', async () => {
  assert.ok(dense.length > 30, `${dense.length} lines`);
  assert.ok(dense.filter((l) => l.includes('"type":"checkpoint"')).length >= 6);
  const r = await verify(dense);
  assert.equal(r.issue, undefined);
  assert.equal(r.lastSeq, dense.length);
});

test('T5: deleting any single line is reported at that line (the last one: see the --server test)', async () => {
  for (let i = 0; i < dense.length - 1; i++) {
    const r = await verify(dense.filter((_, j) => j !== i));
    assert.equal(r.issue?.line, i + 1, `deleted line ${i + 1}: ${JSON.stringify(r.issue)}`);
    assert.equal(r.issue?.kind, 'removed', `deleted line ${i + 1}`);
  }
});

test('T5: editing any single line is reported at that line', async () => {
  for (let i = 0; i < dense.length; i++) {
    const lines = [...dense];
    lines[i] = naiveEdit(lines[i]!);
    assert.notEqual(lines[i], dense[i]);
    const r = await verify(lines);
    assert.deepEqual([r.issue?.line, r.issue?.kind], [i + 1, 'edited'], `edited line ${i + 1}`);
  }
});

test('T5: editing a line and recomputing its own hash is still reported at that line', async () => {
  for (let i = 0; i < dense.length - 1; i++) {
    const lines = [...dense];
    lines[i] = rehash(lines[i]!, (e) => { e['time'] = '2000-01-01T00:00:00.000Z'; });
    const r = await verify(lines);
    assert.deepEqual([r.issue?.line, r.issue?.kind], [i + 1, 'edited'], `rehashed line ${i + 1}: ${JSON.stringify(r.issue)}`);
  }
});

test('T5: swapping any two neighbouring lines is reported at the first of them', async () => {
  for (let i = 0; i < dense.length - 1; i++) {
    const lines = [...dense];
    [lines[i], lines[i + 1]] = [lines[i + 1]!, lines[i]!];
    const r = await verify(lines);
    assert.equal(r.issue?.line, i + 1, `swapped ${i + 1} and ${i + 2}: ${JSON.stringify(r.issue)}`);
    assert.ok(r.issue?.kind === 're-ordered' || (i === 0 && r.issue?.kind === 'removed'), JSON.stringify(r.issue));
  }
});

test('T5: a line moved further down is re-ordered, not removed', async () => {
  const lines = [...dense];
  const [moved] = lines.splice(5, 1);
  lines.splice(12, 0, moved!);
  const r = await verify(lines);
  assert.deepEqual([r.issue?.line, r.issue?.kind], [6, 're-ordered']);
});

test('T5: a tail cut in the middle of a line is truncated, at that line', async () => {
  const last = dense.at(-1)!;
  const r = await verify(dense.slice(0, -1), last.slice(0, 40));
  assert.deepEqual([r.issue?.line, r.issue?.kind], [dense.length, 'truncated']);
});

test('T5: verify over real files: series order, a gap across files, .gz', async () => {
  const { gzipSync } = await import('node:zlib');
  const a = join(dir, 'series.log.1.gz');
  const b = join(dir, 'series.log');
  await writeFile(a, gzipSync(`${dense.slice(0, 20).join('\n')}\n`));
  await writeFile(b, `${dense.slice(20).join('\n')}\n`);
  assert.equal((await verifyFiles([b, a])).issue, undefined);
  await writeFile(b, `${dense.slice(21).join('\n')}\n`);
  const gap = await verifyFiles([b, a]);
  assert.deepEqual([gap.issue?.file, gap.issue?.line, gap.issue?.kind], [b, 1, 'removed']);
});

function cli(args: string[]): Promise<CliResult> {
  return runCli(args, { addr: server.addr, token: server.rootToken, home: dir });
}

test('T5 CLI: coffer audit verify --server: untouched OK; cut tail, last line deleted, rewritten chain all caught', async () => {
  const sparse = (await readFile(sparsePath, 'utf8')).split('\n').slice(0, -1);
  const copy = async (name: string, lines: readonly string[]): Promise<string> => {
    const p = join(dir, name);
    await writeFile(p, `${lines.join('\n')}\n`);
    return p;
  };
  // The live log keeps growing (the verify calls are audited too); a copy of it now is what is checked.
  const snapshot = sparse.slice(0, sparse.findIndex((l) => l.includes('"reason":"resume"')) + 1);
  const ok = await cli(['audit', 'verify', '--server', await copy('ok.log', snapshot)]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /^OK: 1 file\(s\), \d+ entries, 3 checkpoints/);
  assert.match(ok.stdout, /authenticated by the server \(device sparse\/\)/);

  const offline = await cli(['audit', 'verify', await copy('cut-offline.log', snapshot.slice(0, -2))]);
  assert.equal(offline.code, 0, 'offline, a tail cut at a line boundary cannot be seen');
  const cut = await cli(['audit', 'verify', '--server', await copy('cut.log', snapshot.slice(0, -2))]);
  assert.equal(cut.code, 3, cut.stdout + cut.stderr);
  assert.match(cut.stdout, new RegExp(`cut\\.log:${snapshot.length - 1}: truncated: `));
  const lastGone = await cli(['audit', 'verify', '--server', await copy('last.log', snapshot.slice(0, -1))]);
  assert.equal(lastGone.code, 3);
  assert.match(lastGone.stdout, new RegExp(`last\\.log:${snapshot.length}: truncated: `));

  // An attacker who rewrites everything from line 4 on (new content, every hash recomputed)
  // passes the offline walk but not the checkpoint MACs.
  const rewritten = [...snapshot];
  for (let i = 3; i < rewritten.length; i++) {
    const prev = parseChainLine(rewritten[i - 1]!)!.hash;
    rewritten[i] = rehash(rewritten[i]!, (e) => { if (e['type'] === 'response') e['error'] = 'nothing to see'; }, prev);
  }
  const forgedPath = await copy('forged.log', rewritten);
  assert.equal((await cli(['audit', 'verify', forgedPath])).code, 0);
  const forged = await cli(['audit', 'verify', '--server', '--format', 'json', forgedPath]);
  assert.equal(forged.code, 3);
  const report = JSON.parse(forged.stdout) as { ok: boolean; issue: { line: number; kind: string } };
  const firstCheckpointAfter = rewritten.findIndex((l, i) => i >= 3 && l.includes('"type":"checkpoint"'));
  assert.deepEqual([report.ok, report.issue.kind, report.issue.line], [false, 'not-authentic', firstCheckpointAfter + 1]);

  const edited = await cli(['audit', 'verify', await copy('edited.log', snapshot.map((l, i) => (i === 7 ? naiveEdit(l) : l)))]);
  assert.equal(edited.code, 3);
  assert.match(edited.stdout, /edited\.log:8: edited: /);
});
