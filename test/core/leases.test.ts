import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { leaseSourceFactory } from '../../bench/lib/lease-source.js';
import { InmemStorage } from '../../src/storage/index.js';
import { Scheduler } from '../../src/core/scheduler.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { createLogger } from '../../src/util/logger.js';
import { sqliteConfig } from '../helpers/server.js';
import { tmpDir } from '../helpers/tmp.js';

// Leases through the front door: a lease-only engine (the benchmark's lease source) mounted at
// src/ drives the real pipeline, lease stage, barrier records, expiry heap and revocation path.

const ROOT = 'root-test-token';
const ENGINES = new Map([['lease-source', leaseSourceFactory]]);
const running = new Set<RunningServer>();
after(async () => { for (const s of running) await s.close(); });

interface Srv { server: RunningServer; call(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any }> }

function client(server: RunningServer, token = ROOT): Srv {
  const addr = server.addresses[0]!;
  return {
    server,
    call: async (method, path, body, tok = token) => {
      const res = await fetch(`${addr}/v1/${path}`, { method, headers: { 'X-Vault-Token': tok }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
  };
}

async function devServer(dataDir?: string): Promise<Srv> {
  const server = await startServer({ dev: { listenAddress: '127.0.0.1:0', rootToken: ROOT, ...(dataDir ? { dataDir } : {}) }, logger: createLogger('silent'), extraSecretFactories: ENGINES });
  running.add(server);
  const s = client(server);
  if (!server.core.secrets.get('src/')) assert.equal((await s.call('POST', 'sys/mounts/src', { type: 'lease-source' })).status, 204);
  return s;
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const issue = async (s: Srv, body: Record<string, unknown>, token?: string) => {
  const r = await s.call('POST', 'src/issue', body, token);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body as { lease_id: string; lease_duration: number; renewable: boolean; data: { n: number }; warnings: string[] | null };
};
const lookup = (s: Srv, id: string) => s.call('PUT', 'sys/leases/lookup', { lease_id: id });
const revokedIds = async (s: Srv): Promise<number[]> => (await s.call('GET', 'src/stats')).body.data.revoked_ids;

describe('leases', { concurrency: true }, async () => {
  const s = await devServer();

  test('a leased response carries lease_id, lease_duration, renewable; lookup and LIST show it', async () => {
    const a = await issue(s, { ttl: '1h' });
    assert.match(a.lease_id, /^src\/issue\/[0-9A-Za-z]{24}$/);
    assert.equal(a.lease_duration, 3600);
    assert.equal(a.renewable, true);
    const l = await lookup(s, a.lease_id);
    assert.equal(l.status, 200);
    assert.equal(l.body.data.id, a.lease_id);
    assert.equal(l.body.data.renewable, true);
    assert.ok(l.body.data.ttl > 3500 && l.body.data.ttl <= 3600);
    assert.equal(l.body.data.last_renewal, null);
    const list = await s.call('LIST', 'sys/leases/lookup/src/issue/');
    assert.ok(list.body.data.keys.includes(a.lease_id.split('/').pop()));
    assert.equal((await lookup(s, 'src/issue/nope')).status, 400);
    assert.equal((await lookup(s, '../../etc')).status, 400);
  });

  test('renew extends up to the max TTL and not beyond; a non-renewable lease refuses', async () => {
    const a = await issue(s, { ttl: 60, max_ttl: 120 });
    const r = await s.call('PUT', 'sys/leases/renew', { lease_id: a.lease_id, increment: 90 });
    assert.equal(r.status, 200);
    assert.equal(r.body.lease_id, a.lease_id);
    assert.ok(r.body.lease_duration > 85 && r.body.lease_duration <= 90);
    const capped = await s.call('PUT', 'sys/renew', { lease_id: a.lease_id, increment: 1000 }); // the legacy path
    assert.equal(capped.status, 200);
    assert.ok(capped.body.lease_duration <= 120 && capped.body.lease_duration > 110, String(capped.body.lease_duration));
    assert.match(capped.body.warnings[0], /capped/);
    const l = await lookup(s, a.lease_id);
    assert.notEqual(l.body.data.last_renewal, null);
    const fixed = await issue(s, { ttl: 60, renewable: false });
    assert.equal((await s.call('PUT', 'sys/leases/renew', { lease_id: fixed.lease_id })).status, 400);
  });

  test('a lease expires on time and its backend revocation runs', async () => {
    const a = await issue(s, { ttl: 1 });
    await waitFor('expiry', async () => (await lookup(s, a.lease_id)).status === 400, 4000);
    assert.ok((await revokedIds(s)).includes(a.data.n));
  });

  test('revoke, revoke-prefix (sudo) and the legacy sys/revoke-prefix', async () => {
    const one = await issue(s, { ttl: '1h' });
    assert.equal((await s.call('PUT', `sys/leases/revoke/${one.lease_id}`)).status, 204);
    assert.equal((await lookup(s, one.lease_id)).status, 400);
    assert.equal((await s.call('PUT', 'sys/leases/revoke', { lease_id: one.lease_id })).status, 204); // unknown: not an error
    const srv2 = await devServer();
    const many = await Promise.all([1, 2, 3].map(() => issue(srv2, { ttl: '1h' })));
    await srv2.call('PUT', 'sys/policies/acl/leases', { policy: 'path "sys/leases/*" { capabilities = ["update", "list"] }' });
    const tok = (await srv2.call('POST', 'auth/token/create', { policies: ['leases'] })).body.auth.client_token as string;
    assert.equal((await srv2.call('PUT', 'sys/leases/revoke-prefix/src/issue', {}, tok)).status, 403);
    assert.equal((await srv2.call('PUT', 'sys/revoke-prefix/src/issue')).status, 204);
    for (const m of many) assert.equal((await lookup(srv2, m.lease_id)).status, 400);
    assert.deepEqual((await revokedIds(srv2)).sort(), many.map((m) => m.data.n).sort());
  });

  test('a failing revocation stays visible, is retried with backoff, and revoke-force drops it', async () => {
    const srv = await devServer();
    const a = await issue(srv, { ttl: 1 });
    const b = await issue(srv, { ttl: '1h' });
    await srv.call('POST', 'src/config', { fail_revoke: true });
    const failed = await waitFor('a recorded failure', async () => {
      const l = await lookup(srv, a.lease_id);
      return l.body.data?.revocation_attempts >= 1 ? l.body.data : undefined;
    }, 4000);
    assert.match(failed.revocation_error, /revocation refused/);
    assert.equal(failed.renewable, false);
    const manual = await srv.call('PUT', 'sys/leases/revoke', { lease_id: b.lease_id });
    assert.equal(manual.status, 400);
    assert.match(manual.body.errors[0], /revocation refused/);
    assert.equal((await lookup(srv, b.lease_id)).status, 200);
    assert.equal((await srv.call('PUT', `sys/leases/revoke-force/${b.lease_id}`)).status, 204);
    assert.equal((await lookup(srv, b.lease_id)).status, 400);
    await srv.call('POST', 'src/config', { fail_revoke: false });
    await waitFor('the retry', async () => (await lookup(srv, a.lease_id)).status === 400, 6000);
    assert.ok((await revokedIds(srv)).includes(a.data.n));
  });

  test('revoking a token revokes its leases; a token that expires takes its leases with it', async () => {
    const t1 = (await s.call('POST', 'auth/token/create', { ttl: '1h' })).body.auth.client_token as string;
    const a = await issue(s, { ttl: '1h' }, t1);
    assert.equal((await s.call('POST', 'auth/token/revoke', { token: t1 })).status, 204);
    assert.equal((await lookup(s, a.lease_id)).status, 400);
    assert.ok((await revokedIds(s)).includes(a.data.n));
    const t2 = (await s.call('POST', 'auth/token/create', { ttl: 2 })).body.auth.client_token as string;
    const b = await issue(s, { ttl: '1h' }, t2);
    await waitFor('the token\'s expiry', async () => (await lookup(s, b.lease_id)).status === 400, 5000);
    assert.ok((await revokedIds(s)).includes(b.data.n));
  });

  test('unmounting revokes the mount\'s leases first', async () => {
    const srv = await devServer();
    assert.equal((await srv.call('POST', 'sys/mounts/other', { type: 'lease-source' })).status, 204);
    const r = await srv.call('POST', 'other/issue', { ttl: '1h' });
    assert.equal((await srv.call('DELETE', 'sys/mounts/other')).status, 204);
    assert.equal((await lookup(srv, r.body.lease_id)).status, 400);
    assert.equal(srv.server.core.leases.count(), 0);
  });

  test('the lease CLI: lookup, renew --increment, revoke --prefix --force', async () => {
    const a = await issue(s, { ttl: 600 });
    const b = await issue(s, { ttl: 600 });
    const env = { COFFER_ADDR: s.server.addresses[0]!, COFFER_TOKEN: ROOT };
    const look = await coffer(['lease', 'lookup', a.lease_id], env);
    assert.equal(look.code, 0, look.stderr);
    assert.match(look.stdout, new RegExp(`id\\s+${a.lease_id}`));
    const renew = await coffer(['lease', 'renew', '--increment', '2m', a.lease_id], env);
    assert.equal(renew.code, 0, renew.stderr);
    assert.match(renew.stdout, /lease_duration\s+(2m|1m5\ds)/);
    const force = await coffer(['lease', 'revoke', '--prefix', '--force', b.lease_id], env);
    assert.equal(force.code, 0, force.stderr);
    assert.match(force.stdout, /Success! Revoked any leases with prefix/);
    assert.equal((await lookup(s, b.lease_id)).status, 400);
    assert.equal((await lookup(s, a.lease_id)).status, 200);
  });
});

test('past max_leases a new lease answers 429 and the secret is undone', async () => {
  const server = await startServer({ config: { ...sqliteConfig(join(tmpDir('coffer-leases'), 'c.db')), maxLeases: 2 }, logger: createLogger('silent'), extraSecretFactories: ENGINES });
  running.add(server);
  const anon = client(server, '');
  const init = (await anon.call('PUT', 'sys/init', { secret_shares: 1, secret_threshold: 1 })).body;
  await anon.call('PUT', 'sys/unseal', { key: init.keys_base64[0] });
  const s = client(server, init.root_token);
  await s.call('POST', 'sys/mounts/src', { type: 'lease-source' });
  await issue(s, { ttl: '1h' });
  await issue(s, { ttl: '1h' });
  const over = await s.call('POST', 'src/issue', { ttl: '1h' });
  assert.equal(over.status, 429);
  assert.match(over.body.errors[0], /lease count quota/);
  assert.deepEqual(await revokedIds(s), [3]);
});

test('after a restart requests are served at once, leases load behind, and none expires late', async () => {
  const dir = tmpDir('coffer-leases-restart');
  let s = await devServer(dir);
  const short = await issue(s, { ttl: 3 });
  const long = await issue(s, { ttl: '1h' });
  await s.server.close();
  running.delete(s.server);
  s = await devServer(dir);
  assert.equal((await lookup(s, long.lease_id)).status, 200);
  await waitFor('the loaded short lease to expire', async () => (await lookup(s, short.lease_id)).status === 400, 6000);
  assert.ok((await revokedIds(s)).includes(short.data.n));
  assert.equal((await s.call('GET', 'sys/leases/count')).body.data.lease_count, 1);
});

test('the scheduler runs a job missed while down once at start, and a job that just ran not again', async () => {
  const storage = new InmemStorage();
  const logger = createLogger('silent');
  let now = 1_000_000;
  const runs: string[] = [];
  const make = () => new Scheduler({ storage, logger, isActive: () => true, now: () => now });
  const first = make();
  first.register({ name: 'daily', intervalMs: 86_400_000, persist: true, run: async () => { runs.push('daily'); } });
  await first.start();
  await first.runNow('daily');
  await first.stop();
  assert.deepEqual(runs, ['daily']);
  now += 3_600_000; // an hour later: not due
  const second = make();
  second.register({ name: 'daily', intervalMs: 86_400_000, persist: true, run: async () => { runs.push('daily'); } });
  await second.start();
  assert.ok(second.status()[0]!.nextRun! > now);
  await second.stop();
  now += 2 * 86_400_000; // two days later: due once
  const third = make();
  third.register({ name: 'daily', intervalMs: 86_400_000, persist: true, run: async () => { runs.push('daily'); } });
  await third.start();
  await waitFor('the missed run', async () => runs.length === 2, 2000);
  await new Promise((r) => setTimeout(r, 100));
  await third.stop();
  assert.deepEqual(runs, ['daily', 'daily']);
  assert.equal(third.status()[0]!.lastRun, now);
});

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
function coffer(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { env: { PATH: process.env['PATH'] ?? '', HOME: tmpDir('coffer-lease-cli'), ...env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
