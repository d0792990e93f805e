import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CoreRequest } from '../src/core/request.js';
import { BIN, client } from './lib/coffer.js';
import { measure, type LoadSpec, type Summary } from './lib/load.js';
import { freePort, startProcess, type Server } from './lib/proc.js';
import type { Options, Row } from './scenarios.js';

// 1,000,000 stored secrets: read p99 against a 1,000-secret store, and LIST of a 10k-key folder.
//
// Each store lives in a fresh dev data dir. The built dev server initializes it (1/1 seal,
// dev-unseal.key, KV v2 at secret/) and stops; this process then opens the same SQLite file
// with createCore, unseals it with the dev key and writes every secret through
// core.pipeline.handle (token lookup, ACL, the KV v2 engine, barrier encryption), with
// synchronous=NORMAL for the loading only (durability is not what is measured here). The
// measurements run against the built server on that data dir (synchronous=FULL) over HTTP,
// with a non-root token, every request reading a different random secret: once with the
// barrier's read cache (10,000 records: the 1k store fits, the 1M store mostly misses) and once
// with `disable_cache` (both stores read from SQLite every time: the size effect alone).
// Nothing here asserts a speed; it reports.

const TOKEN = 'bench-root';
const LOAD_CONCURRENCY = 256;

interface Layout {
  /** Secrets in the store, the list folder's included. */
  total: number;
  /** Secrets 0..listed-1 live in one folder, `<listFolder>/k<i>`; the rest in m/<i mod 1000>/s<i>. */
  listed: number;
  listFolder: string;
}

const layout = (total: number, listed: number): Layout => ({ total, listed, listFolder: listed % 1000 === 0 ? `list${listed / 1000}k` : `list${listed}` });
const secretPath = (l: Layout, i: number): string => (i < l.listed ? `${l.listFolder}/k${i}` : `m/${i % 1000}/s${i}`);

type Call = (method: string, path: string, body?: unknown, token?: string) => Promise<{ status: number; body: unknown }>;
interface Dev extends Server { addr: string; call: Call }

/** The built dev server on a data dir, root token `bench-root` (used on first start only; it stays valid). */
async function startDevAt(dir: string): Promise<Dev> {
  const port = await freePort();
  const addr = `http://127.0.0.1:${port}`;
  const server = await startProcess(
    [BIN, 'server', '--dev', '--dev-data-dir', dir, '--dev-root-token', TOKEN, '--dev-listen-address', `127.0.0.1:${port}`, '--log-level', 'error'],
    port, async () => (await fetch(`${addr}/v1/sys/health`)).status === 200,
  );
  return { ...server, addr, call: client(addr, TOKEN) };
}

/**
 * A normal (non-dev) server on the same data dir, from a config file — with `disable_cache`
 * when asked — unsealed over HTTP with the dev key. The root token is still `bench-root`.
 */
async function startConfiguredAt(dir: string, disableCache: boolean): Promise<Dev> {
  const port = await freePort();
  const addr = `http://127.0.0.1:${port}`;
  const config = join(dir, 'bench.hcl');
  writeFileSync(config, `storage "sqlite" {\n  path = "${join(dir, 'coffer.db')}"\n}\nlistener "tcp" {\n  address = "127.0.0.1:${port}"\n  tls_disable = true\n}\nlog_level = "error"\ndisable_cache = ${disableCache}\n`);
  const server = await startProcess([BIN, 'server', '--config', config], port,
    async () => (await fetch(`${addr}/v1/sys/health?sealedcode=200`)).status === 200);
  const unseal = await fetch(`${addr}/v1/sys/unseal`, { method: 'PUT', body: JSON.stringify({ key: readFileSync(join(dir, 'dev-unseal.key'), 'utf8').trim() }) });
  const sealed = ((await unseal.json()) as { sealed?: boolean }).sealed;
  if (unseal.status !== 200 || sealed !== false) {
    await server.stop();
    throw new Error(`unsealing the bench store → ${unseal.status}`);
  }
  return { ...server, addr, call: client(addr, TOKEN) };
}

interface Loaded { ms: number; perSec: number; dbMiB: number }

/**
 * Writes `l.total` secrets into an initialized dev data dir through the real core, in this
 * process: SqliteStorage (synchronous=NORMAL, loading only), unsealed with dev-unseal.key.
 */
async function loadStore(dir: string, l: Layout, progress: boolean): Promise<Loaded> {
  // Imported here, not at the top: every bench run imports this file, few run this scenario.
  const [{ createCore }, { SqliteStorage }, { createLogger }] = await Promise.all([
    import('../src/core/core.js'), import('../src/storage/index.js'), import('../src/util/logger.js'),
  ]);
  const storage = new SqliteStorage({ path: join(dir, 'coffer.db'), synchronous: 'normal' });
  // Dev mode's lease TTLs (32 days); KV v2 issues no leases, so they do not matter here.
  const core = await createCore({ storage, logger: createLogger('error'), defaultLeaseTtl: 2_764_800, maxLeaseTtl: 2_764_800 });
  let ms = NaN;
  try {
    const status = await core.seal.submitShare(readFileSync(join(dir, 'dev-unseal.key'), 'utf8').trim());
    if (status.sealed) throw new Error('the dev unseal key did not unseal the store');
    // Random passwords from a pool drawn in one go: a 24-byte randomBytes per secret costs more than it is worth.
    const pool = randomBytes(24 * 4096);
    const password = (i: number): string => pool.toString('base64', (i % 4096) * 24, (i % 4096) * 24 + 24);
    const request = (i: number): CoreRequest => ({
      id: `bench-load-${i}`, operation: 'update', path: `secret/data/${secretPath(l, i)}`,
      data: { data: { v: String(i), password: password(i) } },
      token: TOKEN, clientIp: '127.0.0.1', headers: {}, wrapTtl: undefined, namespace: 'root',
    });
    const order = writeOrder(l);
    const step = 100_000;
    let next = 0;
    let done = 0;
    const t0 = performance.now();
    const worker = async (): Promise<void> => {
      for (let k = next++; k < l.total; k = next++) {
        const i = order[k]!;
        const res = await core.pipeline.handle(request(i));
        if (res.data?.['version'] !== 1) throw new Error(`loading secret ${i}: expected version 1, got ${JSON.stringify(res.data)}`);
        if (++done % step === 0 && progress) {
          const s = (performance.now() - t0) / 1000;
          process.stderr.write(`  loaded ${done.toLocaleString('en')} / ${l.total.toLocaleString('en')} (${Math.round(done / s)}/s, ${Math.round(s)} s)\n`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(LOAD_CONCURRENCY, l.total) }, worker));
    ms = performance.now() - t0;
  } finally {
    await core.close(); // seals, then closes SQLite (which checkpoints the WAL into the db file)
  }
  return { ms, perSec: l.total / (ms / 1000), dbMiB: dbMiB(dir) };
}

/**
 * Folder by folder (the list folder, then m/0/, m/1/, ...), as a bulk import would, so a run of
 * writes lands in one region of the B-tree instead of touching 2,000 hot pages round-robin
 * (on 100k secrets: ~2.5× the rate; the file came out the same size within 5%).
 */
function writeOrder(l: Layout): Int32Array {
  const order = new Int32Array(l.total);
  let k = 0;
  for (let i = 0; i < l.listed; i++) order[k++] = i;
  for (let f = 0; f < 1000; f++) {
    for (let i = l.listed + ((f - (l.listed % 1000) + 1000) % 1000); i < l.total; i += 1000) order[k++] = i;
  }
  if (k !== l.total) throw new Error(`write order covers ${k} of ${l.total} secrets`);
  return order;
}

function dbMiB(dir: string): number {
  let bytes = 0;
  for (const f of ['coffer.db', 'coffer.db-wal']) {
    try { bytes += statSync(join(dir, f)).size; } catch { /* no WAL file */ }
  }
  return bytes / 1024 / 1024;
}

/** A fresh dev data dir (listed in `dirs` for removal) that the built dev server has initialized: 1/1 seal, dev-unseal.key, KV v2 at secret/. */
async function initDir(dirs: string[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-bench-million-'));
  dirs.push(dir);
  const init = await startDevAt(dir);
  await init.stop();
  return dir;
}

/** A non-root token allowed to read every KV v2 secret, nothing else. */
async function readToken(c: Dev): Promise<string> {
  const pol = await c.call('PUT', 'sys/policies/acl/bench-million', { policy: 'path "secret/data/*" { capabilities = ["read"] }' });
  if (pol.status !== 204 && pol.status !== 200) throw new Error(`policy write → ${pol.status}`);
  const tok = await c.call('POST', 'auth/token/create', { policies: ['bench-million'], ttl: '1h' });
  if (tok.status !== 200) throw new Error(`token create → ${tok.status}`);
  return (tok.body as { auth: { client_token: string } }).auth.client_token;
}

/** Checks a few random secrets read back as written, with the read token. */
async function spotCheck(c: Dev, l: Layout, token: string): Promise<void> {
  for (let k = 0; k < 5; k++) {
    const i = Math.floor(Math.random() * l.total);
    const r = await c.call('GET', `secret/data/${secretPath(l, i)}`, undefined, token);
    const v = (r.body as { data?: { data?: { v?: string } } } | undefined)?.data?.data?.v;
    if (r.status !== 200 || v !== String(i)) throw new Error(`secret ${i} read back as ${r.status} ${JSON.stringify(r.body)}`);
  }
}

/**
 * Random-key KV v2 reads: every request a different, uniformly random, existing secret — among
 * all of them, or among the first `among` (a hot set, as real workloads read).
 */
function randomReads(c: Dev, l: Layout, token: string, o: Options, among = l.total): LoadSpec {
  const first = l.listed; // the hot set is taken from the m/ folders, past the list folder
  const span = Math.min(among, l.total - first);
  return {
    url: c.addr, connections: o.connections, headers: { 'X-Vault-Token': token },
    requests: [{
      method: 'GET',
      setupRequest: (req) => ({ ...req, path: `/v1/secret/data/${secretPath(l, among >= l.total ? Math.floor(Math.random() * l.total) : first + Math.floor(Math.random() * span))}` }),
    }],
  };
}

const fmt = (n: number): string => n.toLocaleString('en');
const round1 = (n: number): number => Math.round(n * 10) / 10;

export async function millionSecrets(o: Options): Promise<Row[]> {
  const started = performance.now();
  const big = o.quick ? layout(2_000, 500) : layout(1_000_000, 10_000);
  const small = layout(o.quick ? 200 : 1_000, 0);
  const label = o.quick ? `${fmt(big.total)} stored secrets (quick)` : `${fmt(big.total)} stored secrets`;
  const timing = { warmup: o.warmup, seconds: o.seconds, reps: o.reps };
  const rows: Row[] = [];
  const dirs: string[] = [];
  let server: Dev | undefined;
  try {
    // Measured per store: the read load with the read cache (default size) and without it
    // (disable_cache: every read decrypts from SQLite); for the big store also the LIST.
    type Reads = { cached: Summary; uncached: Summary; hot?: Summary };
    const run = async (l: Layout, dir: string, progress: boolean): Promise<{ loaded: Loaded; reads: Reads; list?: number[] }> => {
      const loaded = await loadStore(dir, l, progress);
      process.stderr.write(`  ${fmt(l.total)} secrets loaded in ${Math.round(loaded.ms)} ms (${Math.round(loaded.perSec)}/s), db ${round1(loaded.dbMiB)} MiB\n`);
      const reads: Partial<Reads> = {};
      let list: number[] | undefined;
      for (const mode of ['cached', 'uncached'] as const) {
        server = await startConfiguredAt(dir, mode === 'uncached');
        const c = server;
        const token = await readToken(c);
        await spotCheck(c, l, token);
        reads[mode] = await measure(randomReads(c, l, token, o), { ...timing, pid: c.child.pid! });
        if (mode === 'cached' && l.total > small.total) reads.hot = await measure(randomReads(c, l, token, o, small.total), { ...timing, pid: c.child.pid! });
        if (mode === 'cached' && l.listed > 0) {
          list = [];
          for (let k = 0; k < (o.quick ? 3 : 20); k++) {
            const t0 = performance.now();
            const r = await c.call('LIST', `secret/metadata/${big.listFolder}`);
            list.push(performance.now() - t0);
            const keys = (r.body as { data?: { keys?: string[] } } | undefined)?.data?.keys;
            if (r.status !== 200 || keys?.length !== l.listed) throw new Error(`LIST ${big.listFolder} → ${r.status}, ${keys?.length} keys (expected ${l.listed})`);
          }
          list.sort((a, b) => a - b);
        }
        await c.stop();
        server = undefined;
      }
      return { loaded, reads: reads as Reads, ...(list ? { list } : {}) };
    };

    // Both data dirs are initialized at once (two server starts in parallel); the rest runs one store at a time.
    const inits = await Promise.allSettled([initDir(dirs), initDir(dirs)]);
    const [smallDir, bigDir] = inits.map((r) => { if (r.status === 'rejected') throw r.reason; return r.value; });
    const s = await run(small, smallDir!, false);
    const b = await run(big, bigDir!, true);
    const loadNote = 'loaded in-process through core.pipeline.handle (root token, ACL, KV v2 engine, barrier encryption), ' +
      `${LOAD_CONCURRENCY} writes in flight, folder by folder, SQLite synchronous=NORMAL for loading only; the reads run against a server on the same file (synchronous=FULL)`;
    for (const [l, r] of [[small, s], [big, b]] as const) {
      rows.push({
        scenario: `${label}: bulk load of ${fmt(l.total)} secrets through the engine (ms; ${Math.round(r.loaded.perSec)} secrets/s, db ${round1(r.loaded.dbMiB)} MiB)`,
        kind: 'timing', ms: { median: Math.round(r.loaded.ms), runs: [Math.round(r.loaded.ms)] }, note: loadNote,
      });
    }
    const readNote = 'KV v2 read with a policy token (read on secret/data/*); every request a different random existing secret';
    for (const mode of ['cached', 'uncached'] as const) {
      const sm = s.reads[mode].median;
      const bm = b.reads[mode].median;
      const ratio = sm.p99 > 0 ? Math.round((bm.p99 / sm.p99) * 100) / 100 : NaN;
      const how = mode === 'cached' ? 'read cache on (10,000 records)' : 'read cache off (disable_cache)';
      rows.push(
        {
          scenario: `${label}: kv v2 read, random key of ${fmt(small.total)}, ${how}`, kind: 'load', summary: s.reads[mode],
          note: `${readNote}${mode === 'cached' ? '; the whole store fits in the read cache' : ''}`,
        },
        {
          scenario: `${label}: kv v2 read, random key of ${fmt(big.total)}, ${how} (p99 ${ratio}× the ${fmt(small.total)}-secret store's)`, kind: 'load', summary: b.reads[mode],
          note: `${readNote}. p99 ${bm.p99} ms vs ${sm.p99} ms = ${ratio}× (goal ≤ 1.2×); p50 ${bm.p50} vs ${sm.p50} ms; req/s ${Math.round(bm.reqPerSec)} vs ${Math.round(sm.reqPerSec)}`,
        },
      );
    }
    if (b.reads.hot) {
      const hm = b.reads.hot.median;
      const sm = s.reads.cached.median;
      const ratio = sm.p99 > 0 ? Math.round((hm.p99 / sm.p99) * 100) / 100 : NaN;
      rows.push({
        scenario: `${label}: kv v2 read, random key of a hot set of ${fmt(small.total)} in the ${fmt(big.total)}, read cache on (p99 ${ratio}× the ${fmt(small.total)}-secret store's)`,
        kind: 'load', summary: b.reads.hot,
        note: `the same ${fmt(small.total)}-key working set as the small store, inside the big one: p99 ${hm.p99} vs ${sm.p99} ms; req/s ${Math.round(hm.reqPerSec)} vs ${Math.round(sm.reqPerSec)}`,
      });
    }
    if (b.list) {
      rows.push({
        scenario: `${label}: LIST secret/metadata/${big.listFolder} (${fmt(big.listed)} keys, LIST verb, root token) (ms)`, kind: 'timing',
        ms: { median: round1(b.list[Math.floor(b.list.length / 2)]!), runs: b.list.map(round1) }, note: `goal ≤ 50 ms; ${b.list.length} runs, median`,
      });
    }
    const total = performance.now() - started;
    rows.push({ scenario: `${label}: whole scenario, loading included (ms)`, kind: 'timing', ms: { median: Math.round(total), runs: [Math.round(total)] } });
    process.stderr.write(`  ${label}: whole scenario ${Math.round(total / 1000)} s\n`);
    return rows;
  } finally {
    const open = server as Dev | undefined;
    if (open) await open.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}
