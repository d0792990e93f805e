import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { measure } from './lib/load.js';
import { freePort, rssMiB, startProcess, type Server } from './lib/proc.js';
import type { Options, Row } from './scenarios.js';

// 256,000 active leases: create them over HTTP (the lease source engine, SQLite storage),
// restart the server and time it to serving and to fully loaded, take RSS, then measure KV
// read latency while every one of them expires in the same second.

const SERVER = join(import.meta.dirname, 'servers', 'lease-server.ts');

interface Node { server: Server; addr: string; call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> }

async function start(file: string, port: number, token: string): Promise<Node & { spawnedAt: number; listeningAt: number }> {
  const addr = `http://127.0.0.1:${port}`;
  const spawnedAt = performance.now();
  const server = await startProcess(['--import', 'tsx', SERVER, String(port), file, 'normal'], port, async () => (await fetch(`${addr}/v1/sys/health?uninitcode=200&sealedcode=200`)).status === 200);
  const listeningAt = performance.now();
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${addr}/v1/${path}`, { method, headers: { 'X-Vault-Token': token }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  return { server, addr, call, spawnedAt, listeningAt };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const round = (n: number): number => Math.round(n);

export async function leaseScale(o: Options): Promise<Row[]> {
  const total = o.quick ? 2_000 : 256_000;
  const label = o.quick ? '2,000 leases (quick)' : '256,000 active leases';
  const dir = mkdtempSync(join(tmpdir(), 'coffer-bench-leases-'));
  const file = join(dir, 'coffer.db');
  const port = await freePort();
  let node = await start(file, port, '');
  const rows: Row[] = [];
  try {
    const init = (await node.call('PUT', 'sys/init', { secret_shares: 1, secret_threshold: 1 })).body as { keys_base64: string[]; root_token: string };
    const key = init.keys_base64[0]!;
    const token = init.root_token;
    await node.call('PUT', 'sys/unseal', { key });
    node = { ...node, call: withToken(node.addr, token) };
    await node.call('POST', 'sys/mounts/src', { type: 'lease-source' });
    await node.call('POST', 'sys/mounts/secret', { type: 'kv', options: { version: '2' } });
    await node.call('POST', 'secret/data/bench', { data: { password: 'p'.repeat(32) } });

    // A first slice (long TTL, it stays) measures the creation rate; the rest are timed to
    // expire in one second, after creation, a restart and a baseline measurement.
    const issue = (amount: number, ttl: () => number) => autocannon({
      url: `${node.addr}/v1/src/issue`, connections: o.quick ? 10 : 64, amount,
      headers: { 'X-Vault-Token': token, 'content-type': 'application/json' },
      requests: [{ method: 'POST', setupRequest: (req) => ({ ...req, body: JSON.stringify({ ttl: ttl() }) }) }],
    });
    const created0 = performance.now();
    const probe = Math.round(total / 50);
    const first = await issue(probe, () => 3600);
    const rate = probe / ((performance.now() - created0) / 1000);
    const expireAt = Date.now() + ((total - probe) / rate * 1.3 + (o.quick ? 10 : 45)) * 1000;
    const result = await issue(total - probe, () => Math.max(1, Math.ceil((expireAt - Date.now()) / 1000)));
    result.non2xx += first.non2xx;
    const createMs = performance.now() - created0;
    const count = (await node.call('GET', 'sys/leases/count')).body.data.lease_count as number;
    const rssBefore = rssMiB(node.server.child.pid!);
    rows.push({ scenario: `${label}: create ${count} leases over HTTP (ms; ${round(count / (createMs / 1000))}/s, ${result.non2xx} non-2xx; RSS then ${round(rssBefore)} MiB)`, kind: 'timing', ms: { median: round(createMs), runs: [round(createMs)] } });
    if (Date.now() > expireAt - (o.quick ? 6_000 : 35_000)) throw new Error(`creating ${total} leases took too long (${round(createMs)} ms) for the planned expiry`);

    // Restart: time to listening, to serving a read after unseal, to all leases loaded.
    await node.server.stop();
    const restarted = await start(file, port, token);
    const unsealAt = performance.now();
    await restarted.call('PUT', 'sys/unseal', { key });
    let firstRead = NaN;
    for (;;) {
      const r = await restarted.call('GET', 'secret/data/bench');
      if (r.status === 200) { firstRead = performance.now(); break; }
      await sleep(1);
    }
    let loadedAt = NaN;
    for (;;) {
      const c = await restarted.call('GET', 'sys/leases/count');
      if (c.body?.data?.loaded) { loadedAt = performance.now(); break; }
      await sleep(20);
    }
    rows.push(
      { scenario: `${label}: restart, process start → listening (ms)`, kind: 'timing', ms: { median: round(restarted.listeningAt - restarted.spawnedAt), runs: [] } },
      { scenario: `${label}: unseal → first KV read served (ms)`, kind: 'timing', ms: { median: round(firstRead - unsealAt), runs: [] } },
      { scenario: `${label}: unseal → every lease loaded (ms, behind serving)`, kind: 'timing', ms: { median: round(loadedAt - unsealAt), runs: [] } },
    );
    node = restarted;

    // Reads before, then across the mass expiry.
    const spec = { url: `${node.addr}/v1/secret/data/bench`, headers: { 'X-Vault-Token': token } };
    const pid = node.server.child.pid!;
    const quiet = await measure({ connections: o.connections, ...spec }, { warmup: 0, seconds: o.quick ? 1 : 5, reps: 1, pid });
    rows.push({ scenario: `${label}: kv v2 read after restart, all leases loaded (RSS = with them in memory)`, kind: 'load', summary: quiet });
    await sleep(expireAt - Date.now() - 500);
    const expiryStart = performance.now();
    const during = await measure({ connections: o.connections, ...spec }, { warmup: 0, seconds: o.quick ? 2 : 10, reps: 1, pid });
    rows.push({ scenario: `${label}: kv v2 read during the mass expiry`, kind: 'load', summary: during });
    let drained = NaN;
    for (let i = 0; i < 3000; i++) {
      const c = (await node.call('GET', 'sys/leases/count')).body.data.lease_count as number;
      if (c <= probe) { drained = performance.now(); break; } // the probe slice lives on
      await sleep(100);
    }
    rows.push({ scenario: `${label}: expiry start → the ${total - probe} due ones revoked (ms)`, kind: 'timing', ms: { median: round(drained - expiryStart), runs: [] } });
    return rows;
  } finally {
    await node.server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function withToken(addr: string, token: string): Node['call'] {
  return async (method, path, body) => {
    const res = await fetch(`${addr}/v1/${path}`, { method, headers: { 'X-Vault-Token': token }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
}
