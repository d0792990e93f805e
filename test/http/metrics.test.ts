/** sys/metrics and sys/in-flight-req as Vault serves them, over the real wire. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import type { ServerConfig } from '../../src/config/index.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { createLogger } from '../../src/util/logger.js';
import { ok, startDevServer } from '../helpers/server.js';
import { eventually } from '../audit/device-contract.js';
import { streamReceiver } from '../audit/receivers.js';

const ROOT = 'metrics-root-token';
const running: RunningServer[] = [];
after(async () => { for (const s of running) await s.close(); });

interface Reply { status: number; type: string; text: string; json: any }

async function call(addr: string, method: string, path: string, opts: { token?: string; headers?: Record<string, string>; body?: unknown } = {}): Promise<Reply> {
  const res = await fetch(`${addr}/v1/${path}`, {
    method,
    headers: { ...(opts.token ? { 'X-Vault-Token': opts.token } : {}), ...opts.headers },
    ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
  });
  const text = await res.text();
  let json: unknown;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  return { status: res.status, type: res.headers.get('content-type') ?? '', text, json };
}

async function must(p: Promise<Reply>, status: number): Promise<Reply> {
  const r = await p;
  assert.equal(r.status, status, r.text);
  return r;
}

/**
 * A configured, initialized and unsealed server with a telemetry block and two listeners: the
 * first opens sys/metrics and sys/in-flight-req to callers without a token, the second does not.
 */
async function telemetryServer(): Promise<{ server: RunningServer; open: string; closed: string }> {
  const config: ServerConfig = {
    storage: { type: 'inmem' },
    listeners: [
      { type: 'tcp', host: '127.0.0.1', port: 0, tls: null, telemetry: { unauthenticatedMetricsAccess: true }, inflightRequestsLogging: { unauthenticatedInFlightRequestsAccess: true } },
      { type: 'tcp', host: '127.0.0.1', port: 0, tls: null },
    ],
    apiAddr: null, clusterName: 'metrics-test', ui: false,
    defaultLeaseTtlSeconds: 2_764_800, maxLeaseTtlSeconds: 2_764_800, logLevel: 'error',
    telemetry: { prometheusRetentionSeconds: 60, disableHostname: true, usageGaugePeriodSeconds: 600 },
  };
  const server = await startServer({ config, dev: { rootToken: ROOT }, logger: createLogger('silent') });
  running.push(server);
  return { server, open: server.addresses[0]!, closed: server.addresses[1]! };
}

interface PromSample { name: string; labels: Record<string, string>; value: number }

/** Parses the text exposition format strictly: every sample's family was declared by HELP and TYPE first. */
function parsePrometheus(text: string): { types: Map<string, string>; samples: PromSample[] } {
  const types = new Map<string, string>();
  const helped = new Set<string>();
  const samples: PromSample[] = [];
  assert.ok(text.endsWith('\n'), 'ends with a newline');
  for (const line of text.slice(0, -1).split('\n')) {
    const help = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (help) { helped.add(help[1]!); continue; }
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|summary|histogram|untyped)$/.exec(line);
    if (type) { assert.ok(helped.has(type[1]!), `HELP before TYPE for ${type[1]}`); types.set(type[1]!, type[2]!); continue; }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not a sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? '').match(/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"/g) ?? []) {
      const eq = pair.indexOf('=');
      labels[pair.slice(0, eq)] = JSON.parse(pair.slice(eq + 1)) as string;
    }
    const value = m[3] === 'NaN' ? Number.NaN : m[3] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[3]);
    assert.ok(!Number.isNaN(value) || m[3] === 'NaN', `bad value in ${line}`);
    const family = m[1]!.replace(/_(sum|count)$/, '');
    assert.ok(types.has(m[1]!) || types.get(family) === 'summary', `TYPE declared before ${m[1]}`);
    samples.push({ name: m[1]!, labels, value });
  }
  return { types, samples };
}

const sample = (samples: PromSample[], name: string, labels: Record<string, string> = {}): number | undefined =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Sleeps until just after the next 10-second wall-clock boundary (go-metrics' intervals). */
const nextInterval = (): Promise<void> => sleep(10_000 - (Date.now() % 10_000) + 300);

const dev = await startDevServer({ rootToken: ROOT });

test('sys/metrics: go-metrics\' in-memory dump as JSON; the Prometheus format is off without a telemetry block', async () => {
  const res = await call(dev.addr, 'GET', 'sys/metrics', { token: ROOT });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.type, 'application/json');
  assert.deepEqual(Object.keys(res.json), ['Timestamp', 'Gauges', 'Points', 'Counters', 'Samples']);
  assert.match(res.json.Timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d0 \+0000 UTC$/);
  assert.deepEqual(res.json.Points, []);
  assert.deepEqual(res.json.Counters, []);
  const gauges = res.json.Gauges as { Name: string; Value: number; Labels: Record<string, string> }[];
  for (const g of gauges) assert.deepEqual(Object.keys(g), ['Name', 'Value', 'Labels']);
  const gauge = (name: string) => gauges.find((g) => g.Name === name);
  assert.deepEqual(gauge('vault.core.unsealed'), { Name: 'vault.core.unsealed', Value: 1, Labels: { cluster: 'coffer-dev' } });
  assert.deepEqual(gauge('vault.token.count')?.Labels, { namespace: 'root', cluster: 'coffer-dev' });
  assert.ok((gauge('vault.token.count')?.Value ?? 0) >= 1, 'the root token at least');
  assert.equal(gauge('vault.expire.num_leases')?.Value, 0);
  assert.ok((gauge('vault.runtime.alloc_bytes')?.Value ?? 0) > 0);
  assert.ok((gauge('vault.runtime.sys_bytes')?.Value ?? 0) > 0);

  const prom = await call(dev.addr, 'GET', 'sys/metrics?format=prometheus', { token: ROOT });
  assert.equal(prom.status, 400);
  assert.match(prom.type, /^text\/plain/);
  assert.equal(prom.text, 'prometheus is not enabled');
  const unknown = await call(dev.addr, 'GET', 'sys/metrics?format=xml', { token: ROOT });
  assert.equal(unknown.status, 400);
  assert.equal(unknown.text, 'metric response format "xml" unknown');
});

test('sys/metrics and sys/in-flight-req want a token with read on the path (no sudo), as Vault', async () => {
  assert.equal((await call(dev.addr, 'GET', 'sys/metrics')).status, 403);
  assert.equal((await call(dev.addr, 'GET', 'sys/in-flight-req')).status, 403);
  const token = async (policies: string[]): Promise<string> => (await ok(dev.call('POST', 'auth/token/create', { policies, no_default_policy: true }), 200)).auth.client_token;
  await ok(dev.call('PUT', 'sys/policy/metrics-reader', { policy: 'path "sys/metrics" { capabilities = ["read"] }' }));
  await ok(dev.call('PUT', 'sys/policy/inflight-reader', { policy: 'path "sys/in-flight-req" { capabilities = ["read"] }' }));
  const defaultOnly = (await ok(dev.call('POST', 'auth/token/create', { policies: ['default'] }), 200)).auth.client_token;
  assert.equal((await call(dev.addr, 'GET', 'sys/metrics', { token: defaultOnly })).status, 403);
  const metricsReader = await token(['metrics-reader']);
  assert.equal((await call(dev.addr, 'GET', 'sys/metrics', { token: metricsReader })).status, 200);
  assert.equal((await call(dev.addr, 'GET', 'sys/in-flight-req', { token: metricsReader })).status, 403);
  assert.equal((await call(dev.addr, 'GET', 'sys/in-flight-req', { token: await token(['inflight-reader']) })).status, 200);
});

test('JSON samples: vault.core.handle_request counts the requests of the last finished 10-second interval', async () => {
  await nextInterval();
  for (let i = 0; i < 5; i++) assert.equal((await call(dev.addr, 'GET', 'secret/data/counted', { token: ROOT })).status, 404);
  await nextInterval();
  const res = await call(dev.addr, 'GET', 'sys/metrics', { token: ROOT });
  const samples = res.json.Samples as Record<string, unknown>[];
  const handled = samples.find((s) => s['Name'] === 'vault.core.handle_request');
  assert.ok(handled, JSON.stringify(samples));
  assert.deepEqual(Object.keys(handled), ['Name', 'Count', 'Rate', 'Sum', 'Min', 'Max', 'Mean', 'Stddev', 'Labels']);
  assert.equal(handled['Count'], 5, 'exactly the five reads of that interval');
  const [sum, min, max, mean] = [handled['Sum'], handled['Min'], handled['Max'], handled['Mean']] as number[];
  assert.ok(min! > 0 && min! <= mean! && mean! <= max!, JSON.stringify(handled));
  assert.ok(Math.abs(mean! - sum! / 5) < 1e-9);
  assert.ok(Math.abs((handled['Rate'] as number) - sum! / 10) < 1e-9, 'Rate is the sum per second of the interval');
  assert.deepEqual(handled['Labels'], {});
  assert.match(res.json.Timestamp, / \+0000 UTC$/);
});

const t = await telemetryServer();

test('Prometheus text: HELP/TYPE families, summaries that move with requests, no secret, token or address in the output', async () => {
  const first = await call(t.closed, 'GET', 'sys/metrics?format=prometheus', { token: ROOT });
  assert.equal(first.status, 200, first.text);
  assert.equal(first.type, 'text/plain; version=0.0.4; charset=utf-8');
  const before = parsePrometheus(first.text);
  const count0 = sample(before.samples, 'vault_core_handle_request_count') ?? 0;
  assert.equal(sample(before.samples, 'vault_core_unsealed', { cluster: 'metrics-test' }), 1);
  assert.equal(before.types.get('vault_core_unsealed'), 'gauge');

  await must(call(t.closed, 'POST', 'secret/data/app', { token: ROOT, body: { data: { password: 'canary-secret-value' } } }), 200);
  for (let i = 0; i < 5; i++) await must(call(t.closed, 'GET', 'secret/data/app', { token: ROOT }), 200);
  await must(call(t.closed, 'POST', 'sys/auth/userpass', { token: ROOT, body: { type: 'userpass' } }), 204);
  await must(call(t.closed, 'POST', 'auth/userpass/users/bob', { token: ROOT, body: { password: 'bob-password-1', token_policies: ['default'] } }), 204);
  const login = await must(call(t.closed, 'POST', 'auth/userpass/login/bob', { body: { password: 'bob-password-1' } }), 200);

  const res = await call(t.closed, 'GET', 'sys/metrics?format=prometheus', { token: ROOT });
  const { types, samples } = parsePrometheus(res.text);
  assert.equal(types.get('vault_core_handle_request'), 'summary');
  // The first scrape, the write, five reads, the userpass mount and user: counted once each; the login apart.
  assert.equal(sample(samples, 'vault_core_handle_request_count'), count0 + 9);
  assert.equal(sample(samples, 'vault_core_handle_login_request_count'), 1);
  assert.ok((sample(samples, 'vault_core_handle_request_sum') ?? 0) > 0);
  for (const q of ['0.5', '0.9', '0.99']) {
    const v = sample(samples, 'vault_core_handle_request', { quantile: q });
    assert.ok(v !== undefined && v > 0, `quantile ${q}: ${v}`);
  }
  assert.equal(sample(samples, 'vault_core_active', { cluster: 'metrics-test' }), 1);
  assert.equal(sample(samples, 'vault_expire_num_leases', { cluster: 'metrics-test' }), 0);
  assert.ok((sample(samples, 'vault_token_count', { cluster: 'metrics-test', namespace: 'root' }) ?? 0) >= 1);
  assert.ok((sample(samples, 'vault_runtime_sys_bytes') ?? 0) > 0);
  assert.ok((sample(samples, 'vault_core_in_flight_requests', { cluster: 'metrics-test' }) ?? 0) >= 1, 'the scrape itself');
  // SECURITY.md rule 1: nothing secret, no path and no client address in any name, label or value.
  const userToken: string = login.json.auth.client_token;
  for (const needle of [ROOT, userToken, 'canary-secret-value', 'bob-password-1', 'secret/data', 'secret_data', '127.0.0.1', 'bob']) {
    assert.ok(!res.text.includes(needle), `${needle} in the metrics`);
  }
  const labelNames = new Set(samples.flatMap((s) => Object.keys(s.labels)));
  assert.deepEqual([...labelNames].sort(), ['cluster', 'namespace', 'quantile']);
});

test('audit counters: every audited request adds 0 to vault.audit.log_request_failure, a request no device could log adds 1', async () => {
  const a = await telemetryServer();
  const collector = await streamReceiver();
  const enable = await call(a.closed, 'PUT', 'sys/audit/siem', { token: ROOT, body: { type: 'socket', options: { address: `127.0.0.1:${collector.port}`, write_timeout: '500ms' } } });
  assert.equal(enable.status, 204, enable.text);
  for (let i = 0; i < 3; i++) await must(call(a.closed, 'GET', 'auth/token/lookup-self', { token: ROOT }), 200);
  // Scraped on the open listener: served without a token and not audited, so it works while the device is down.
  const scrape = async () => parsePrometheus((await must(call(a.open, 'GET', 'sys/metrics?format=prometheus'), 200)).text);
  const up = await scrape();
  assert.equal(up.types.get('vault_audit_log_request_failure'), 'counter');
  assert.equal(up.types.get('vault_audit_log_response_failure'), 'counter');
  assert.equal(sample(up.samples, 'vault_audit_log_request_failure'), 0);
  assert.equal(sample(up.samples, 'vault_audit_log_response_failure'), 0);

  await collector.close();
  await eventually(() => collector.sockets.size, (n) => n === 0);
  assert.equal((await call(a.closed, 'GET', 'auth/token/lookup-self', { token: ROOT })).status, 500, 'fails closed');
  assert.equal((await call(a.closed, 'GET', 'auth/token/lookup-self', { token: ROOT })).status, 500, 'fails closed');
  const down = await scrape();
  assert.ok((sample(down.samples, 'vault_audit_log_request_failure') ?? 0) >= 1, down.samples.filter((x) => x.name.startsWith('vault_audit')).map((x) => `${x.name}=${x.value}`).join(' '));
});

test('the Accept header a Prometheus server sends selects the Prometheus format, as in Vault', async () => {
  const res = await call(t.closed, 'GET', 'sys/metrics', { token: ROOT, headers: { Accept: 'application/openmetrics-text; version=0.0.1,text/plain;version=0.0.4;q=0.5,*/*;q=0.1' } });
  assert.equal(res.status, 200);
  assert.match(res.type, /^text\/plain; version=0\.0\.4/);
  assert.ok(parsePrometheus(res.text).types.has('vault_core_unsealed'));
  assert.equal((await call(t.closed, 'GET', 'sys/metrics', { token: ROOT, headers: { Accept: 'application/json' } })).type, 'application/json');
});

test('listener telemetry { unauthenticated_metrics_access }: that listener serves sys/metrics without a token, the other does not', async () => {
  const prom = await call(t.open, 'GET', 'sys/metrics?format=prometheus');
  assert.equal(prom.status, 200, prom.text);
  assert.ok(parsePrometheus(prom.text).types.has('vault_core_unsealed'));
  const json = await call(t.open, 'GET', 'sys/metrics');
  assert.equal(json.status, 200);
  assert.ok(Array.isArray(json.json.Gauges));
  assert.equal((await call(t.open, 'POST', 'sys/metrics', { body: {} })).status, 405);
  assert.equal((await call(t.closed, 'GET', 'sys/metrics?format=prometheus')).status, 403);
  assert.equal((await call(t.closed, 'GET', 'sys/in-flight-req')).status, 403);
});

/** A request whose headers are sent and whose body is not finished: in flight until `finish()`. */
function heldRequest(addr: string, head: string, partialBody: string): { socket: Socket; response: Promise<string>; finish: (rest: string) => void } {
  const url = new URL(addr);
  const socket = connect(Number(url.port), url.hostname);
  const chunks: Buffer[] = [];
  const response = new Promise<string>((resolve, reject) => {
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
  socket.write(`${head}\r\n\r\n${partialBody}`);
  return { socket, response, finish: (rest) => socket.end(rest) };
}

async function inFlight(addr: string, token?: string): Promise<Record<string, Record<string, string>>> {
  const res = await call(addr, 'GET', 'sys/in-flight-req', token ? { token } : {});
  assert.equal(res.status, 200, res.text);
  assert.equal(res.type, 'application/json');
  return res.json;
}

test('sys/in-flight-req shows itself: path without the query, method, client address, start time', async () => {
  const res = await call(t.closed, 'GET', 'sys/in-flight-req?note=query-value-never-shown', { token: ROOT });
  assert.equal(res.status, 200, res.text);
  assert.ok(!res.text.includes('query-value-never-shown'));
  const entries = Object.entries(res.json as Record<string, Record<string, string>>);
  const [id, self] = entries.find(([, e]) => e['request_path'] === '/v1/sys/in-flight-req') ?? [];
  assert.ok(id && self, res.text);
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.deepEqual(Object.keys(self), ['start_time', 'client_remote_address', 'request_path', 'request_method', 'client_id']);
  assert.equal(self['request_method'], 'GET');
  assert.match(self['client_remote_address']!, /^127\.0\.0\.1:\d+$/);
  assert.equal(self['client_id'], '');
  const age = Date.now() - Date.parse(self['start_time']!);
  assert.ok(age >= 0 && age < 5000, `start_time ${self['start_time']}`);
});

test('sys/in-flight-req: an upload still in progress is listed (PUT and LIST), and gone once answered', async () => {
  const url = new URL(t.closed);
  const put = heldRequest(t.closed, [
    'PUT /v1/secret/data/held?token=query-secret-never-shown HTTP/1.1', `Host: ${url.host}`, `X-Vault-Token: ${ROOT}`,
    'Content-Type: application/json', 'Content-Length: 40', 'Connection: close',
  ].join('\r\n'), '{"data":{"k":');
  const list = heldRequest(t.closed, [
    'LIST /v1/secret/metadata/ HTTP/1.1', `Host: ${url.host}`, `X-Vault-Token: ${ROOT}`, 'Content-Length: 2', 'Connection: close',
  ].join('\r\n'), '{');
  try {
    let held: Record<string, string>[] = [];
    for (let i = 0; i < 50 && held.length < 2; i++) {
      held = Object.values(await inFlight(t.closed, ROOT)).filter((e) => e['request_path'] !== '/v1/sys/in-flight-req');
      if (held.length < 2) await sleep(50);
    }
    const byMethod = Object.fromEntries(held.map((e) => [e['request_method'], e]));
    assert.equal(byMethod['PUT']?.['request_path'], '/v1/secret/data/held', JSON.stringify(held));
    assert.equal(byMethod['LIST']?.['request_path'], '/v1/secret/metadata/', JSON.stringify(held));
    // The listener that opens in-flight data without a token shows the same requests.
    const open = await call(t.open, 'GET', 'sys/in-flight-req');
    assert.equal(open.status, 200);
    assert.ok(!open.text.includes('query-secret-never-shown'));
    assert.equal(Object.values(open.json as Record<string, Record<string, string>>).filter((e) => e['request_method'] === 'PUT').length, 1);
    const metrics = parsePrometheus((await call(t.open, 'GET', 'sys/metrics?format=prometheus')).text);
    assert.ok((sample(metrics.samples, 'vault_core_in_flight_requests') ?? 0) >= 3, 'the two held requests and the scrape');
  } finally {
    put.finish('"v"}}'.padEnd(40 - '{"data":{"k":'.length, ' '));
    list.finish('}');
  }
  assert.match(await put.response, /^HTTP\/1\.1 200 /);
  assert.match(await list.response, /^HTTP\/1\.1 200 /);
  const left = Object.values(await inFlight(t.closed, ROOT)).filter((e) => e['request_path'] !== '/v1/sys/in-flight-req');
  assert.deepEqual(left, []);
});

test('while sealed, an open listener still serves metrics (unsealed = 0); through the pipeline it is 503', async () => {
  assert.equal((await call(t.closed, 'PUT', 'sys/seal', { token: ROOT })).status, 204);
  const res = await call(t.open, 'GET', 'sys/metrics?format=prometheus');
  assert.equal(res.status, 200, res.text);
  const { samples } = parsePrometheus(res.text);
  assert.equal(sample(samples, 'vault_core_unsealed', { cluster: 'metrics-test' }), 0);
  assert.equal(sample(samples, 'vault_expire_num_leases'), undefined);
  assert.equal(sample(samples, 'vault_token_count'), undefined);
  assert.equal((await call(t.closed, 'GET', 'sys/metrics', { token: ROOT })).status, 503);
});
