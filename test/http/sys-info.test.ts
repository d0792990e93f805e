/**
 * sys/version-history, sys/ha-status, sys/host-info, sys/config/state/sanitized and sys/loggers,
 * over HTTP against real servers: shapes as Vault answers them, who may call them, and that a
 * bad request changes nothing.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { cpus, hostname, totalmem } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { recordVersion } from '../../src/core/versions.js';
import { sanitizedConfig } from '../../src/engines/sys/paths-info.js';
import { startServer } from '../../src/server/start.js';
import { createLogger } from '../../src/util/logger.js';
import { VERSION } from '../../src/version.js';
import { hvacPython, runPython } from '../compat/python.js';
import { ok, sqliteConfig, startConfiguredServer, startDevServer, type TestServer } from '../helpers/server.js';
import { tmpDir } from '../helpers/tmp.js';

const s = await startDevServer();

/** A token whose only policy is `hcl` (no default policy). */
async function tokenWith(server: TestServer, name: string, hcl: string, root = server.rootToken): Promise<Record<string, string>> {
  const auth = { 'X-Vault-Token': root };
  assert.equal((await server.call('PUT', `sys/policy/${name}`, { policy: hcl }, auth)).status, 204);
  const created = await ok(server.call('POST', 'auth/token/create', { policies: [name], no_default_policy: true }, auth), 200);
  return { 'X-Vault-Token': created.auth.client_token as string };
}

const INFO_PATHS = ['sys/host-info', 'sys/config/state/sanitized', 'sys/loggers', 'sys/loggers/*', 'sys/version-history', 'sys/ha-status'];
const everything = (caps: string): string => INFO_PATHS.map((p) => `path "${p}" { capabilities = [${caps}] }`).join('\n');
const reader = await tokenWith(s, 'info-no-sudo', everything('"read", "list", "update", "delete"'));
const sudoer = await tokenWith(s, 'info-sudo', everything('"read", "list", "update", "delete", "sudo"'));

test('sys/version-history: LIST and GET ?list=true give the running version, its build date and no predecessor', async () => {
  const listed = (await ok(s.call('LIST', 'sys/version-history'), 200)).data;
  assert.deepEqual((await ok(s.call('GET', 'sys/version-history?list=true'), 200)).data, listed);
  assert.deepEqual(listed.keys, [VERSION]);
  const info = listed.key_info[VERSION];
  assert.deepEqual(Object.keys(info).sort(), ['build_date', 'previous_version', 'timestamp_installed']);
  assert.equal(info.previous_version, null);
  assert.match(info.timestamp_installed, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'RFC 3339, whole seconds, UTC');
  assert.ok(Math.abs(Date.parse(info.timestamp_installed) - Date.now()) < 120_000);
  const sealStatus = await ok(s.call('GET', 'sys/seal-status'), 200);
  assert.equal(info.build_date, sealStatus.build_date, 'the build date seal-status reports');
  assert.equal(sealStatus.version, VERSION, 'the version seal-status reports');

  assert.equal((await s.call('GET', 'sys/version-history')).status, 405, 'LIST only, as Vault');
  assert.equal((await s.call('LIST', 'sys/version-history', undefined, reader)).status, 200, 'list capability is enough (no sudo)');
  const defaultToken = (await ok(s.call('POST', 'auth/token/create', { policies: ['default'] }), 200)).auth.client_token as string;
  assert.equal((await s.call('LIST', 'sys/version-history', undefined, { 'X-Vault-Token': defaultToken })).status, 403);
});

test('sys/version-history: oldest install first, each naming the one before; a version keeps its first timestamp', async () => {
  const t = await startDevServer();
  const barrier = t.server.core.barrier;
  const first = (await ok(t.call('LIST', 'sys/version-history'), 200)).data.key_info[VERSION].timestamp_installed;
  await recordVersion(barrier, '1.16.2+coffer.0.0.9', new Date('2024-03-01T10:00:00.250Z'));
  await recordVersion(barrier, '1.16.0+coffer.0.0.8', new Date('2024-01-01T10:00:00Z'));
  await recordVersion(barrier, VERSION, new Date('2099-01-01T00:00:00Z'));
  await recordVersion(barrier, '1.16.0+coffer.0.0.8', new Date('2098-01-01T00:00:00Z'));
  const { keys, key_info: info } = (await ok(t.call('LIST', 'sys/version-history'), 200)).data;
  assert.deepEqual(keys, ['1.16.0+coffer.0.0.8', '1.16.2+coffer.0.0.9', VERSION]);
  assert.deepEqual(info['1.16.0+coffer.0.0.8'], { build_date: '2026-11-29T00:00:00Z', previous_version: null, timestamp_installed: '2024-01-01T10:00:00Z' });
  assert.equal(info['1.16.2+coffer.0.0.9'].previous_version, '1.16.0+coffer.0.0.8');
  assert.equal(info['1.16.2+coffer.0.0.9'].timestamp_installed, '2024-03-01T10:00:00Z');
  assert.equal(info[VERSION].previous_version, '1.16.2+coffer.0.0.9');
  assert.equal(info[VERSION].timestamp_installed, first, 'recording a version again changes nothing');
});

test('sys/version-history survives a restart of an on-disk server: the entry from init, not a new one at the next unseal', async () => {
  const db = join(tmpDir('version-history'), 'coffer.db');
  const first = await startConfiguredServer(sqliteConfig(db));
  const init = await ok(first.call('PUT', 'sys/init', { secret_shares: 1, secret_threshold: 1 }), 200);
  const root = { 'X-Vault-Token': init.root_token as string };
  assert.equal((await ok(first.call('PUT', 'sys/unseal', { key: init.keys[0] }), 200)).sealed, false);
  const before = (await ok(first.call('LIST', 'sys/version-history', undefined, root), 200)).data;
  await first.server.close();
  await new Promise((resolve) => setTimeout(resolve, 1100)); // a re-recorded entry would carry a later second

  const second = await startConfiguredServer(sqliteConfig(db));
  assert.equal((await second.call('LIST', 'sys/version-history', undefined, root)).status, 503, 'sealed');
  assert.equal((await ok(second.call('PUT', 'sys/unseal', { key: init.keys[0] }), 200)).sealed, false);
  const afterRestart = (await ok(second.call('LIST', 'sys/version-history', undefined, root), 200)).data;
  assert.deepEqual(afterRestart, before);
  assert.deepEqual(afterRestart.keys, [VERSION]);
});

test('sys/ha-status: this server is the one active node; read capability is enough', async () => {
  const body = await ok(s.call('GET', 'sys/ha-status'), 200);
  assert.deepEqual(body.data, {
    nodes: [{ hostname: hostname(), api_address: body.data.nodes[0]?.api_address, cluster_address: '', active_node: true, last_echo: null, version: VERSION }],
  });
  assert.match(body.data.nodes[0].api_address, /^http:\/\/127\.0\.0\.1:\d+$/, 'without api_addr: the first listener, as Vault in dev mode');
  assert.equal((await s.call('GET', 'sys/ha-status', undefined, reader)).status, 200);

  const t = await startConfiguredServer({ ...sqliteConfig(join(tmpDir('ha-status'), 'coffer.db')), apiAddr: 'https://coffer.example:8200' });
  const init = await ok(t.call('PUT', 'sys/init', { secret_shares: 1, secret_threshold: 1 }), 200);
  await ok(t.call('PUT', 'sys/unseal', { key: init.keys[0] }), 200);
  const nodes = (await ok(t.call('GET', 'sys/ha-status', undefined, { 'X-Vault-Token': init.root_token }), 200)).data.nodes;
  assert.equal(nodes[0].api_address, 'https://coffer.example:8200', 'api_addr when configured');
});

test('sys/host-info: gopsutil-shaped sections from what the host reports; read is enough, as in Vault', async () => {
  const body = await ok(s.call('GET', 'sys/host-info'), 200);
  const d = body.data;
  assert.ok(Math.abs(Date.parse(d.timestamp) - Date.now()) < 60_000);
  assert.equal(d.host.hostname, hostname());
  assert.equal(d.host.os, process.platform === 'win32' ? 'windows' : process.platform);
  assert.ok(Number.isInteger(d.host.uptime) && Number.isInteger(d.host.bootTime));
  assert.equal(d.memory.total, totalmem());
  assert.ok(d.memory.available > 0 && d.memory.used > 0 && d.memory.usedPercent > 0 && d.memory.usedPercent < 100);
  assert.equal(d.cpu.length, cpus().length);
  assert.deepEqual(d.cpu.map((c: { cpu: number }) => c.cpu), cpus().map((_, i) => i));
  assert.equal(typeof d.cpu[0].modelName, 'string');
  assert.equal(d.cpu_times.length, cpus().length);
  for (const t of d.cpu_times) {
    assert.match(t.cpu, /^cpu\d+$/);
    for (const k of ['user', 'system', 'idle', 'nice', 'irq']) assert.equal(typeof t[k], 'number');
    assert.equal(t.iowait, undefined, 'left out, not made up: Node.js cannot tell');
  }
  const root = d.disk.find((x: { path: string }) => x.path === '/');
  assert.ok(root, JSON.stringify(d.disk));
  assert.ok(root.total > 0 && root.used + root.free <= root.total && root.usedPercent >= 0);

  assert.equal((await s.call('GET', 'sys/host-info', undefined, reader)).status, 200, 'read without sudo, as Vault');
  assert.equal((await s.call('GET', 'sys/host-info', undefined, sudoer)).status, 200);
});

test('sys/config/state/sanitized: the loaded config in Vault\'s shape; read is enough, as in Vault', async () => {
  const db = join(tmpDir('config-state'), 'coffer.db');
  const t = await startConfiguredServer({ ...sqliteConfig(db), apiAddr: 'https://coffer.example:8200', clusterName: 'blue', maxLeases: 5000, cacheEntries: 0 });
  const init = await ok(t.call('PUT', 'sys/init', { secret_shares: 1, secret_threshold: 1 }), 200);
  await ok(t.call('PUT', 'sys/unseal', { key: init.keys[0] }), 200);
  const body = await ok(t.call('GET', 'sys/config/state/sanitized', undefined, { 'X-Vault-Token': init.root_token }), 200);
  assert.deepEqual(body.data, {
    api_addr: 'https://coffer.example:8200',
    cache_size: 0,
    cluster_addr: '',
    cluster_name: 'blue',
    default_lease_ttl: 2_764_800,
    disable_cache: true,
    enable_ui: false,
    listeners: [{ type: 'tcp', config: { address: '127.0.0.1:0', tls_disable: true } }],
    log_format: 'json',
    log_level: 'error',
    max_lease_ttl: 2_764_800,
    max_leases: 5000,
    raw_storage_endpoint: false,
    seals: [{ type: 'shamir', disabled: false }],
    storage: { type: 'sqlite', redirect_addr: 'https://coffer.example:8200', cluster_addr: '', sqlite: { path: db, synchronous: 'full' } },
  });
  assert.equal((await s.call('GET', 'sys/config/state/sanitized', undefined, reader)).status, 200, 'read without sudo, as Vault');
  assert.equal((await ok(s.call('GET', 'sys/config/state/sanitized', undefined, sudoer), 200)).data.storage.type, 'inmem');
});

test('sys/config/state/sanitized never shows the PostgreSQL connection_url; TLS file paths are shown as Vault shows them', () => {
  const shown = sanitizedConfig({
    ...sqliteConfig('/unused'),
    storage: { type: 'postgresql', connectionUrl: 'postgres://coffer:hunter2-secret@db:5432/coffer', table: 'vault_kv_store', haEnabled: false, maxParallel: 16 },
    listeners: [{ type: 'tcp', host: '::1', port: 8200, tls: { certFile: '/etc/coffer/cert.pem', keyFile: '/etc/coffer/key.pem', minVersion: 'TLSv1.3' } }],
  });
  const text = JSON.stringify(shown);
  assert.ok(!text.includes('hunter2') && !text.includes('postgres://') && !text.includes('connection'), text);
  assert.deepEqual(shown['storage'], { type: 'postgresql', redirect_addr: '', cluster_addr: '', postgresql: { table: 'vault_kv_store', ha_enabled: false, max_parallel: 16 } });
  assert.deepEqual(shown['listeners'], [{ type: 'tcp', config: { address: '[::1]:8200', tls_cert_file: '/etc/coffer/cert.pem', tls_key_file: '/etc/coffer/key.pem', tls_min_version: 'tls13' } }]);
});

/** A dev server whose log lines are kept, at `warn` to start with. */
async function loggedServer(): Promise<{ server: Awaited<ReturnType<typeof startServer>>; lines: () => { level: number; msg: string }[]; call: TestServer['call'] }> {
  const chunks: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { chunks.push(chunk.toString()); done(); } });
  const server = await startServer({ dev: { listenAddress: '127.0.0.1:0', rootToken: 'root-logged' }, logger: createLogger('warn', sink) });
  after(() => server.close());
  const addr = server.addresses[0]!;
  return {
    server,
    lines: () => chunks.join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { level: number; msg: string }),
    call: async (method, path, body, headers = {}) => {
      const res = await fetch(`${addr}/v1/${path}`, { method, headers: { 'X-Vault-Token': 'root-logged', ...headers }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
  };
}

test('sys/loggers: POST changes what the server logs, DELETE goes back to the level it started with', async () => {
  const t = await loggedServer();
  const level = async (): Promise<string> => (await ok(t.call('GET', 'sys/loggers'), 200)).data.core;
  const sealCycle = async (): Promise<void> => {
    await ok(t.call('PUT', 'sys/seal'));
    assert.equal((await ok(t.call('PUT', 'sys/unseal', { key: t.server.dev!.unsealKey }), 200)).sealed, false);
  };
  assert.equal(await level(), 'warn');
  await sealCycle();
  assert.ok(!t.lines().some((l) => l.msg === 'unsealed'), 'info lines are not written at warn');

  await ok(t.call('POST', 'sys/loggers', { level: 'Info' }));
  assert.equal(await level(), 'info');
  assert.deepEqual((await ok(t.call('GET', 'sys/loggers/core'), 200)).data, { core: 'info' });
  await sealCycle();
  assert.ok(t.lines().some((l) => l.msg === 'unsealed'), 'info lines are written once the level is info');

  await ok(t.call('DELETE', 'sys/loggers'));
  assert.equal(await level(), 'warn', 'back to the level at start');
  const count = t.lines().length;
  await sealCycle();
  assert.equal(t.lines().length, count);

  await ok(t.call('PUT', 'sys/loggers/core', { level: 'warning' }));
  assert.equal(await level(), 'warn');
  await ok(t.call('POST', 'sys/loggers/core', { level: 'err' }));
  assert.equal(await level(), 'error');
  await ok(t.call('DELETE', 'sys/loggers/core'));
  assert.equal(await level(), 'warn');
});

test('sys/loggers: a bad level or an unknown logger is a 400 that changes nothing; a token without the capabilities is refused', async () => {
  const t = await loggedServer();
  const level = async (): Promise<string> => (await ok(t.call('GET', 'sys/loggers'), 200)).data.core;
  const refused = async (method: string, path: string, body: unknown, message: string): Promise<void> => {
    const r = await t.call(method, path, body);
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.deepEqual(r.body.errors, [message]);
    assert.equal(await level(), 'warn', `${method} ${path} ${JSON.stringify(body)} changed nothing`);
  };
  await refused('POST', 'sys/loggers', {}, 'level is required');
  await refused('POST', 'sys/loggers', { level: null }, 'level is required');
  await refused('POST', 'sys/loggers', { level: '' }, 'level is empty');
  await refused('POST', 'sys/loggers', { level: 'verbose' }, 'invalid level provided: unknown log level: "verbose"');
  await refused('POST', 'sys/loggers/core', { level: 'fatal' }, 'invalid level provided: unknown log level: "fatal"');
  await refused('POST', 'sys/loggers/audit', { level: 'debug' }, 'logger "audit" not found');
  await refused('DELETE', 'sys/loggers/audit', undefined, 'logger "audit" not found');
  assert.equal((await t.call('POST', 'sys/loggers', { level: 7 })).status, 400);
  assert.deepEqual((await ok(t.call('GET', 'sys/loggers/audit'), 200)).data, {}, 'as Vault: an unknown logger reads as empty');

  const root = { 'X-Vault-Token': 'root-logged' };
  assert.equal((await t.call('PUT', 'sys/policy/loggers-list-only', { policy: everything('"list"') }, root)).status, 204);
  const created = await ok(t.call('POST', 'auth/token/create', { policies: ['loggers-list-only'], no_default_policy: true }, root), 200);
  const noSudo = { 'X-Vault-Token': created.auth.client_token as string };
  assert.equal((await t.call('GET', 'sys/loggers', undefined, noSudo)).status, 403);
  assert.equal((await t.call('POST', 'sys/loggers', { level: 'trace' }, noSudo)).status, 403);
  assert.equal((await t.call('POST', 'sys/loggers/core', { level: 'trace' }, noSudo)).status, 403);
  assert.equal((await t.call('DELETE', 'sys/loggers', undefined, noSudo)).status, 403);
  assert.equal(await level(), 'warn');
});

test('the OpenAPI document declares the new paths, none of them sudo (as in Vault)', async () => {
  const paths = (await ok(s.call('GET', 'sys/internal/specs/openapi'), 200)).paths;
  for (const p of ['/sys/host-info', '/sys/config/state/sanitized', '/sys/loggers', '/sys/loggers/{name}']) { assert.ok(paths[p], p); assert.equal(paths[p]['x-vault-sudo'], undefined, p); }
  assert.ok(paths['/sys/version-history/']?.get, 'LIST as GET ?list=true');
  assert.ok(paths['/sys/ha-status']?.get);
  assert.equal(paths['/sys/ha-status']['x-vault-sudo'], undefined);
});

const py = hvacPython();
test('hvac reads these paths through its generic list/read/write/delete calls', { skip: 'skip' in py ? py.skip : false }, async () => {
  if (!('python' in py)) return;
  const script = join(tmpDir('hvac-info'), 'hvac_info.py');
  writeFileSync(script, `
import json, os, hvac
c = hvac.Client(url=os.environ["VAULT_ADDR"], token=os.environ["VAULT_TOKEN"])
history = c.list("sys/version-history")["data"]
nodes = c.read("sys/ha-status")["data"]["nodes"]
host = c.read("sys/host-info")["data"]
assert c.write("sys/loggers", level="debug").status_code == 204
during = c.read("sys/loggers")["data"]
c.delete("sys/loggers")  # hvac returns nothing for a delete
try:
    c.write("sys/loggers", level="loud")
    bad = "ok"
except hvac.exceptions.InvalidRequest as e:
    bad = e.errors
print(json.dumps({"keys": history["keys"], "active": nodes[0]["active_node"], "host": sorted(host), "during": during,
                  "after": c.read("sys/loggers")["data"], "bad": bad}))
`);
  const out = await runPython(py.python, script, { VAULT_ADDR: s.addr, VAULT_TOKEN: s.rootToken });
  assert.deepEqual(out, {
    keys: [VERSION], active: true, host: ['cpu', 'cpu_times', 'disk', 'host', 'memory', 'timestamp'],
    during: { core: 'debug' }, after: { core: 'off' }, bad: ['invalid level provided: unknown log level: "loud"'],
  });
});
