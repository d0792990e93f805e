import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { BIN, startDev, startSqlite, type Coffer } from './lib/coffer.js';
import { measure, type LoadSpec, type Summary } from './lib/load.js';
import { freePort, startProcess } from './lib/proc.js';
import { leaseScale } from './leases.js';
import { millionSecrets } from './million.js';

export interface Options { warmup: number; seconds: number; reps: number; connections: number; quick: boolean }

export type Row =
  | { scenario: string; kind: 'load'; summary: Summary; note?: string }
  | { scenario: string; kind: 'timing'; ms: { median: number; runs: number[] }; note?: string }
  | { scenario: string; kind: 'skipped'; reason: string };

export interface Scenario { name: string; run(o: Options): Promise<Row[]> }

class Skip extends Error {}
const need = (ok: boolean, reason: string): void => { if (!ok) throw new Skip(reason); };

async function load(name: string, pid: number | undefined, spec: LoadSpec, o: Options, note?: string): Promise<Row> {
  const summary = await measure({ connections: o.connections, ...spec }, { warmup: o.warmup, seconds: o.seconds, reps: o.reps, ...(pid === undefined ? {} : { pid }) });
  return { scenario: name, kind: 'load', summary, ...(note ? { note } : {}) };
}

async function withServer<T extends { stop(): Promise<void> }>(start: () => Promise<T>, fn: (s: T) => Promise<Row[]>): Promise<Row[]> {
  const s = await start();
  try { return await fn(s); } finally { await s.stop(); }
}

async function baseline(file: string, name: string, o: Options): Promise<Row[]> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/hello`;
  return withServer(() => startProcess(['--import', 'tsx', join(import.meta.dirname, 'servers', file), String(port)], port, async () => (await fetch(url)).ok),
    async (s) => [await load(name, s.child.pid, { url }, o)]);
}

/** A non-root token whose policy allows reading one KV v2 secret. */
async function readerToken(c: Coffer, extraRules = ''): Promise<string> {
  const pol = await c.call('PUT', 'sys/policies/acl/bench-reader', { policy: `path "secret/data/bench" { capabilities = ["read"] }\npath "secret/metadata/*" { capabilities = ["list"] }\n${extraRules}` });
  need(pol.status === 204 || pol.status === 200, `policies not available (sys/policies/acl → ${pol.status})`);
  const tok = await c.call('POST', 'auth/token/create', { policies: ['bench-reader'], ttl: '1h' });
  need(tok.status === 200, `token create not available (${tok.status})`);
  return (tok.body as { auth: { client_token: string } }).auth.client_token;
}

async function writeSecret(c: Coffer, path: string, data: Record<string, string>): Promise<void> {
  const w = await c.call('POST', `secret/data/${path}`, { data });
  need(w.status === 200, `KV v2 not available (secret/data → ${w.status})`);
}

export const SCENARIOS: Scenario[] = [
  { name: 'baseline: node:http hello', run: (o) => baseline('node-hello.ts', 'baseline: node:http hello', o) },
  { name: 'baseline: fastify hello', run: (o) => baseline('fastify-hello.ts', 'baseline: fastify hello', o) },
  {
    name: 'kv v2 read (policy token)',
    run: (o) => withServer(startDev, async (c) => {
      await writeSecret(c, 'bench', { password: 'p'.repeat(32) });
      const token = await readerToken(c);
      const spec = { url: `${c.addr}/v1/secret/data/bench`, headers: { 'X-Vault-Token': token } };
      const rows = [await load('kv v2 read (policy token)', c.child.pid, spec, o)];
      const dir = mkdtempSync(join(tmpdir(), 'coffer-bench-audit-'));
      const audit = await c.call('PUT', 'sys/audit/file', { type: 'file', options: { file_path: join(dir, 'audit.log') } });
      if (audit.status !== 204 && audit.status !== 200) rows.push({ scenario: 'kv v2 read, file audit', kind: 'skipped', reason: `audit devices not available (${audit.status})` });
      else rows.push(await load('kv v2 read, file audit', c.child.pid, spec, o));
      // The same with fdatasync before each answer (group-committed across concurrent requests).
      await c.call('DELETE', 'sys/audit/file');
      const synced = await c.call('PUT', 'sys/audit/synced', { type: 'file', options: { file_path: join(dir, 'audit-fsync.log'), fsync: 'true' } });
      if (synced.status !== 204 && synced.status !== 200) rows.push({ scenario: 'kv v2 read, file audit with fsync', kind: 'skipped', reason: `fsync audit not available (${synced.status})` });
      else rows.push(await load('kv v2 read, file audit with fsync', c.child.pid, spec, o));
      rmSync(dir, { recursive: true, force: true });
      return rows;
    }),
  },
  {
    name: 'LIST verb vs GET ?list=true',
    run: (o) => withServer(startDev, async (c) => {
      for (let i = 0; i < 20; i++) await writeSecret(c, `folder/k${i}`, { v: String(i) });
      const h = { 'X-Vault-Token': c.token };
      return [
        await load('LIST secret/metadata/folder (LIST verb)', c.child.pid, { url: `${c.addr}/v1/secret/metadata/folder`, method: 'LIST', headers: h }, o),
        await load('LIST secret/metadata/folder (GET ?list=true)', c.child.pid, { url: `${c.addr}/v1/secret/metadata/folder?list=true`, headers: h }, o),
      ];
    }),
  },
  {
    name: 'kv v2 write durable vs synchronous=NORMAL',
    run: async (o) => {
      const rows: Row[] = [];
      for (const sync of ['full', 'normal'] as const) {
        rows.push(...await withServer(() => startSqlite(sync), async (c) => {
          await writeSecret(c, 'probe', { v: '1' });
          let n = 0;
          const spec: LoadSpec = {
            url: c.addr, headers: { 'X-Vault-Token': c.token, 'content-type': 'application/json' },
            requests: [{ method: 'POST', setupRequest: (req) => ({ ...req, path: `/v1/secret/data/w/${n++}`, body: '{"data":{"password":"0123456789abcdef"}}' }) }],
          };
          return [await load(`kv v2 write, sqlite synchronous=${sync.toUpperCase()}`, c.child.pid, spec, o)];
        }));
      }
      return rows;
    },
  },
  {
    name: 'token create',
    run: (o) => withServer(startDev, async (c) => {
      need((await c.call('POST', 'auth/token/create', { ttl: '1h' })).status === 200, 'token create not available');
      return [await load('token create (root parent)', c.child.pid, { url: `${c.addr}/v1/auth/token/create`, method: 'POST', headers: { 'X-Vault-Token': c.token }, body: '{"ttl":"1h","policies":["default"]}' }, o)];
    }),
  },
  {
    name: 'approle login',
    run: (o) => withServer(startDev, async (c) => {
      const en = await c.call('POST', 'sys/auth/approle', { type: 'approle' });
      need(en.status === 204 || en.status === 200, `approle not available (${en.status})`);
      await c.call('POST', 'auth/approle/role/bench', { token_ttl: '1h', token_policies: ['default'] });
      const roleId = ((await c.call('GET', 'auth/approle/role/bench/role-id')).body as { data: { role_id: string } }).data.role_id;
      const secretId = ((await c.call('POST', 'auth/approle/role/bench/secret-id')).body as { data: { secret_id: string } }).data.secret_id;
      return [await load('approle login', c.child.pid, { url: `${c.addr}/v1/auth/approle/login`, method: 'POST', body: JSON.stringify({ role_id: roleId, secret_id: secretId }) }, o)];
    }),
  },
  {
    name: 'transit encrypt 1 KiB',
    run: (o) => withServer(startDev, async (c) => {
      const m = await c.call('POST', 'sys/mounts/transit', { type: 'transit' });
      need(m.status === 204 || m.status === 200, `transit not available (${m.status})`);
      await c.call('POST', 'transit/keys/bench', {});
      const body = JSON.stringify({ plaintext: Buffer.alloc(1024, 7).toString('base64') });
      return [await load('transit encrypt 1 KiB', c.child.pid, { url: `${c.addr}/v1/transit/encrypt/bench`, method: 'POST', headers: { 'X-Vault-Token': c.token }, body }, o)];
    }),
  },
  {
    name: 'list of a large folder',
    run: (o) => withServer(startDev, async (c) => {
      const count = o.quick ? 200 : 10_000;
      await writeSecret(c, 'big/k0', { v: '0' });
      for (let i = 1; i < count; i += 50) {
        await Promise.all(Array.from({ length: Math.min(50, count - i) }, (_, j) => c.call('POST', `secret/data/big/k${i + j}`, { data: { v: String(i + j) } })));
      }
      const runs: number[] = [];
      for (let i = 0; i < (o.quick ? 3 : 20); i++) {
        const t0 = performance.now();
        const r = await c.call('LIST', 'secret/metadata/big');
        runs.push(performance.now() - t0);
        need((r.body as { data: { keys: string[] } }).data.keys.length === count, 'list returned the wrong count');
      }
      runs.sort((a, b) => a - b);
      return [{ scenario: `LIST of a ${count}-key folder (ms)`, kind: 'timing', ms: { median: round(runs[Math.floor(runs.length / 2)]!), runs: runs.map(round) } }];
    }),
  },
  { name: '1,000,000 stored secrets', run: (o) => millionSecrets(o) },
  { name: '256,000 active leases', run: (o) => leaseScale(o) },
  {
    name: 'coffer kv get, cold',
    run: (o) => withServer(startDev, async (c) => {
      await writeSecret(c, 'cli', { password: 'x' });
      const env = { ...process.env, COFFER_ADDR: c.addr, COFFER_TOKEN: c.token };
      const probe = spawnSync(process.execPath, [BIN, 'kv', 'get', 'secret/cli'], { env, encoding: 'utf8' });
      need(probe.status === 0, `coffer kv get not available: ${probe.stderr.split('\n')[0]}`);
      const runs: number[] = [];
      for (let i = 0; i < (o.quick ? 2 : 10); i++) {
        const t0 = performance.now();
        execFileSync(process.execPath, [BIN, 'kv', 'get', 'secret/cli'], { env, stdio: 'ignore' });
        runs.push(performance.now() - t0);
      }
      runs.sort((a, b) => a - b);
      return [{ scenario: 'coffer kv get, cold process (ms)', kind: 'timing', ms: { median: round(runs[Math.floor(runs.length / 2)]!), runs: runs.map(round) } }];
    }),
  },
];

export async function runScenario(s: Scenario, o: Options): Promise<Row[]> {
  try {
    return await s.run(o);
  } catch (e) {
    if (e instanceof Skip) return [{ scenario: s.name, kind: 'skipped', reason: e.message }];
    throw e;
  }
}

const round = (n: number): number => Math.round(n * 10) / 10;
