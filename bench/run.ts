// `npm run bench`: Coffer beside node:http and fastify baselines in the same run, so results are
// ratios that survive a noisy machine. `--quick` is the smoke mode `npm test` runs.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { pinSelf } from './lib/proc.js';
import { SCENARIOS, runScenario, type Options, type Row } from './scenarios.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.find((a) => a.startsWith('--only='))?.slice(7).split(',');
const out = args.find((a) => a.startsWith('--out='))?.slice(6) ?? join(import.meta.dirname, 'results');
const opts: Options = quick
  ? { warmup: 0.2, seconds: 0.5, reps: 1, connections: 10, quick }
  : { warmup: 2, seconds: 5, reps: 3, connections: 50, quick };

const pinned = pinSelf();
const rows: Row[] = [];
for (const s of SCENARIOS) {
  if (only && !only.some((o) => s.name.toLowerCase().includes(o.toLowerCase()))) continue;
  process.stderr.write(`• ${s.name}\n`);
  rows.push(...await runScenario(s, opts));
}

const fastify = rows.find((r) => r.scenario === 'baseline: fastify hello');
const ref = fastify?.kind === 'load' ? fastify.summary.median.reqPerSec : undefined;
const lines = ['| scenario | req/s (median) | spread | vs fastify | p50 ms | p99 ms | server CPU | RSS MiB |', '|---|---:|---:|---:|---:|---:|---:|---:|'];
for (const r of rows) {
  if (r.kind === 'load') {
    const m = r.summary.median;
    lines.push(`| ${r.scenario} | ${Math.round(m.reqPerSec)} | ±${r.summary.spreadPct}% | ${ref ? `${Math.round((m.reqPerSec / ref) * 100)}%` : '—'} | ${m.p50} | ${m.p99} | ${Math.round(m.serverCpu * 100)}% | ${Math.round(m.rssMiB)} |${m.errors + m.non2xx > 0 ? ` ⚠ ${m.errors} errors, ${m.non2xx} non-2xx` : ''}`);
  } else if (r.kind === 'timing') {
    lines.push(`| ${r.scenario} | ${r.ms.median} ms | runs ${r.ms.runs.join(', ')} | | | | | |`);
  } else {
    lines.push(`| ${r.scenario} | skipped: ${r.reason} | | | | | | |`);
  }
}
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}, load generator ${pinned ? 'pinned to core 1, servers to core 0' : 'not pinned (no taskset)'}`;
const table = lines.join('\n');
process.stdout.write(`\n${machine}\n${quick ? '(quick smoke mode: numbers are not meaningful)\n' : ''}\n${table}\n`);
mkdirSync(out, { recursive: true });
const file = join(out, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.json`);
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), machine, quick, options: opts, rows }, null, 2));
process.stdout.write(`\nresults: ${file}\n`);
