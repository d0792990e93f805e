/**
 * Attribute conditions over real HTTP: source addresses (IPv4 and an IPv6 loopback listener),
 * entity metadata of a userpass login's entity, time windows (with the Date mocked, the server
 * runs in this process), sys/capabilities* reporting what applies now, the explain endpoint and
 * the `coffer policy explain` command.
 */
import { after, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { createLogger } from '../../src/util/logger.js';
import { startDevServer, type TestServer } from '../helpers/server.js';
import { tmpDir } from '../helpers/tmp.js';
import { coffer as runCli, type CliResult } from '../cli/cli-runner.js';

const as = (token: string) => ({ 'X-Vault-Token': token });

/** A token with only `policies` (and default), created by root. */
async function tokenWith(s: TestServer, policies: string[]): Promise<{ token: string; accessor: string }> {
  const r = await s.call('POST', 'auth/token/create', { policies });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return { token: r.body.auth.client_token, accessor: r.body.auth.accessor };
}

async function policy(s: TestServer, name: string, text: string): Promise<void> {
  const r = await s.call('PUT', `sys/policies/acl/${name}`, { policy: text });
  assert.equal(r.status, 204, JSON.stringify(r.body));
}

test('source_cidrs: the caller\'s address decides (IPv4 listener)', async () => {
  const s = await startDevServer();
  await policy(s, 'net', `
path "secret/data/loopback" {
  capabilities = ["read"]
  conditions { source_cidrs = ["127.0.0.0/8"] }
}
path "secret/data/office" {
  capabilities = ["read"]
  conditions { source_cidrs = ["10.0.0.0/8", "2001:db8::/32"] }
}`);
  await s.call('POST', 'secret/data/loopback', { data: { a: 1 } });
  await s.call('POST', 'secret/data/office', { data: { a: 1 } });
  const { token } = await tokenWith(s, ['net']);
  assert.equal((await s.call('GET', 'secret/data/loopback', undefined, as(token))).status, 200);
  assert.equal((await s.call('GET', 'secret/data/office', undefined, as(token))).status, 403);
  const caps = await s.call('POST', 'sys/capabilities-self', { paths: ['secret/data/loopback', 'secret/data/office'] }, as(token));
  assert.deepEqual([caps.body.data['secret/data/loopback'], caps.body.data['secret/data/office']], [['read'], ['deny']]);
  // Root asks about the token: evaluated now, from the asking request's address.
  const viaRoot = await s.call('POST', 'sys/capabilities', { token, paths: ['secret/data/loopback'] });
  assert.deepEqual(viaRoot.body.data.capabilities, ['read']);
});

test('source_cidrs over an IPv6 listener', async (t) => {
  let server: RunningServer;
  try {
    server = await startServer({ dev: { listenAddress: '[::1]:0', rootToken: 'root-test-token' }, logger: createLogger('silent') });
  } catch {
    t.skip('no IPv6 loopback here');
    return;
  }
  after(() => server.close());
  const addr = server.addresses[0]!;
  const call = async (method: string, path: string, body?: unknown, token = 'root-test-token') => {
    const res = await fetch(`${addr}/v1/${path}`, { method, headers: { 'X-Vault-Token': token }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  await call('PUT', 'sys/policies/acl/v6', { policy: `
path "secret/data/v6" {
  capabilities = ["read"]
  conditions { source_cidrs = ["::1/128"] }
}
path "secret/data/v4" {
  capabilities = ["read"]
  conditions { source_cidrs = ["127.0.0.0/8"] }
}` });
  await call('POST', 'secret/data/v6', { data: { a: 1 } });
  await call('POST', 'secret/data/v4', { data: { a: 1 } });
  const token = (await call('POST', 'auth/token/create', { policies: ['v6'] })).body.auth.client_token as string;
  assert.equal((await call('GET', 'secret/data/v6', undefined, token)).status, 200, 'a client at ::1 is in ::1/128');
  assert.equal((await call('GET', 'secret/data/v4', undefined, token)).status, 403, 'and not in 127.0.0.0/8');
});

test('entity_metadata: decided by the entity of a userpass login, at once when it changes', async () => {
  const s = await startDevServer();
  await s.call('POST', 'sys/auth/userpass', { type: 'userpass' });
  await s.call('POST', 'auth/userpass/users/mia', { password: 'mia-password-1', token_policies: ['ml-only'] });
  await policy(s, 'ml-only', `
path "secret/data/ml/*" {
  capabilities = ["read"]
  conditions { entity_metadata = { team = ["ml"] } }
}`);
  await s.call('POST', 'secret/data/ml/model', { data: { w: 1 } });
  const login = await s.call('POST', 'auth/userpass/login/mia', { password: 'mia-password-1' });
  const token = login.body.auth.client_token as string;
  const entityId = login.body.auth.entity_id as string;
  const read = () => s.call('GET', 'secret/data/ml/model', undefined, as(token));
  assert.equal((await read()).status, 403, 'no team yet');
  await s.call('POST', `identity/entity/id/${entityId}`, { metadata: { team: 'ml' } });
  assert.equal((await read()).status, 200);
  await s.call('POST', `identity/entity/id/${entityId}`, { metadata: { team: 'web' } });
  assert.equal((await read()).status, 403);
  // A token without an entity never satisfies entity_metadata.
  const { token: plain } = await tokenWith(s, ['ml-only']);
  assert.equal((await s.call('GET', 'secret/data/ml/model', undefined, as(plain))).status, 403);
});

test('time_window with a mocked clock: edge hours, and sys/capabilities-self says what applies now', async () => {
  const s = await startDevServer();
  await policy(s, 'office', `
path "secret/data/office/*" {
  capabilities = ["read", "list"]
  conditions { time_window = { days = ["mon-fri"], hours = "08:00-18:00", timezone = "Europe/Paris" } }
}
path "secret/data/night/*" {
  capabilities = ["read"]
  conditions { time_window = { hours = "22:00-06:00" } }
}`);
  await s.call('POST', 'secret/data/office/doc', { data: { a: 1 } });
  await s.call('POST', 'secret/data/night/job', { data: { a: 1 } });
  // Monday 2024-01-08, Paris is UTC+1 in winter.
  mock.timers.enable({ apis: ['Date'], now: Date.UTC(2024, 0, 8, 6, 59) });
  try {
    const { token } = await tokenWith(s, ['office']);
    const office = async () => (await s.call('GET', 'secret/data/office/doc', undefined, as(token))).status;
    const night = async () => (await s.call('GET', 'secret/data/night/job', undefined, as(token))).status;
    const matrix: [number, number, number, string][] = [
      [Date.UTC(2024, 0, 8, 6, 59), 403, 403, 'Mon 07:59 Paris, 06:59 UTC'],
      [Date.UTC(2024, 0, 8, 7, 0), 200, 403, 'Mon 08:00 Paris'],
      [Date.UTC(2024, 0, 8, 16, 59), 200, 403, 'Mon 17:59 Paris'],
      [Date.UTC(2024, 0, 8, 17, 0), 403, 403, 'Mon 18:00 Paris'],
      [Date.UTC(2024, 0, 8, 22, 0), 403, 200, 'Mon 22:00 UTC'],
      [Date.UTC(2024, 0, 9, 5, 59), 403, 200, 'Tue 05:59 UTC'],
      [Date.UTC(2024, 0, 9, 6, 0), 403, 403, 'Tue 06:00 UTC'],
      [Date.UTC(2024, 0, 13, 10, 0), 403, 403, 'Saturday 11:00 Paris'],
    ];
    for (const [now, officeStatus, nightStatus, why] of matrix) {
      mock.timers.setTime(now);
      assert.equal(await office(), officeStatus, `office at ${why}`);
      assert.equal(await night(), nightStatus, `night at ${why}`);
      const caps = await s.call('POST', 'sys/capabilities-self', { paths: ['secret/data/office/doc'] }, as(token));
      assert.deepEqual(caps.body.data.capabilities, officeStatus === 200 ? ['list', 'read'] : ['deny'], `capabilities at ${why}`);
    }
  } finally {
    mock.timers.reset();
  }
});

test('sys/internal/acl-explain: the deciding stanza and conditions; sudo to ask about others', async () => {
  const s = await startDevServer();
  await policy(s, 'base', 'path "secret/data/*" { capabilities = ["read"] }');
  await policy(s, 'office', `
path "secret/data/app" {
  capabilities = ["read", "update"]
  conditions { source_cidrs = ["10.0.0.0/8"] }
}`);
  const { token, accessor } = await tokenWith(s, ['base', 'office']);

  // Any token may ask about itself (the default policy grants nothing for this path).
  const self = await s.call('POST', 'sys/internal/acl-explain', { path: 'secret/data/app', operation: 'update' }, as(token));
  assert.equal(self.status, 200, JSON.stringify(self.body));
  const d = self.body.data;
  assert.equal(d.allowed, false);
  assert.equal(d.rule, 'secret/data/*');
  assert.equal(d.match, 'prefix');
  assert.match(d.reason, /"secret\/data\/\*" does not grant "update"/);
  assert.deepEqual(d.decided_by, [{ policy: 'base', path: 'secret/data/*', capabilities: ['read'], conditions: [] }]);
  assert.deepEqual(d.skipped, [{
    policy: 'office', path: 'secret/data/app', capabilities: ['read', 'update'], rule: 'secret/data/app', match: 'exact',
    conditions: [{ condition: 'source_cidrs', holds: false, detail: 'client address 127.0.0.1 is not in 10.0.0.0/8' }],
  }]);
  assert.equal(d.client_ip, '127.0.0.1');
  assert.deepEqual(d.token_policies, ['base', 'default', 'office']);

  // Asking about another token, or from another address, needs sudo.
  assert.equal((await s.call('POST', 'sys/internal/acl-explain', { path: 'secret/data/app', client_ip: '10.1.1.1' }, as(token))).status, 403);
  const other = await tokenWith(s, ['base']);
  assert.equal((await s.call('POST', 'sys/internal/acl-explain', { path: 'secret/data/app', token: other.token }, as(token))).status, 403);
  const byRoot = await s.call('POST', 'sys/internal/acl-explain', { path: 'secret/data/app', operation: 'update', accessor, client_ip: '10.1.1.1' });
  assert.equal(byRoot.body.data.allowed, true);
  assert.equal(byRoot.body.data.rule, 'secret/data/app');
  assert.deepEqual(byRoot.body.data.decided_by[0].conditions, [{ condition: 'source_cidrs', holds: true, detail: 'client address 10.1.1.1 is in 10.0.0.0/8' }]);
  const rootSelf = await s.call('POST', 'sys/internal/acl-explain', { path: 'anything' });
  assert.deepEqual([rootSelf.body.data.root, rootSelf.body.data.allowed], [true, true]);

  assert.equal((await s.call('POST', 'sys/internal/acl-explain', { path: 'secret/data/app' })).status, 200);
  assert.deepEqual((await s.call('POST', 'sys/internal/acl-explain', { path: 'x', operation: 'write' })).body.errors, ['operation must be one of read, create, update, patch, delete, list']);
  assert.equal((await s.call('POST', 'sys/internal/acl-explain', { path: 'a/../b' })).status, 400);
  assert.equal((await s.call('POST', 'sys/internal/acl-explain', { path: 'x' }, as('not-a-token'))).status, 403);
});

/** Runs `coffer ...` as a child process against the in-process server. */
function coffer(args: string[], env: Record<string, string>): Promise<CliResult> {
  return runCli(args, { addr: env['COFFER_ADDR'] ?? '', extra: env });
}

test('coffer policy explain PATH prints the rule, the stanzas and their conditions', async () => {
  const s = await startDevServer();
  await policy(s, 'office', `
path "secret/data/app" {
  capabilities = ["read"]
  conditions { source_cidrs = ["127.0.0.0/8"] }
}`);
  const { token } = await tokenWith(s, ['office']);
  const env = { COFFER_ADDR: s.addr, COFFER_TOKEN: token };
  const table = await coffer(['policy', 'explain', 'secret/data/app'], env);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^Allowed\s+true$/m);
  assert.match(table.stdout, /^Rule\s+secret\/data\/app \(exact\)$/m);
  assert.match(table.stdout, /Decided by:\n {2}policy "office", path "secret\/data\/app": \[read\]\n {4}source_cidrs: holds \(client address 127\.0\.0\.1 is in 127\.0\.0\.0\/8\)/);

  const json = await coffer(['policy', 'explain', 'secret/data/app', '--operation', 'delete', '--format', 'json'], env);
  assert.equal(json.code, 0, json.stderr);
  const body = JSON.parse(json.stdout) as Record<string, unknown>;
  assert.equal(body['allowed'], false);
  assert.equal(body['operation'], 'delete');

  const forbidden = await coffer(['policy', 'explain', 'secret/data/app', '--token', s.rootToken], env);
  assert.equal(forbidden.code, 2, 'asking about another token without sudo is a remote error');
  assert.match(forbidden.stderr, /permission denied/);
  const bad = await coffer(['policy', 'explain', 'x', '--operation', 'write'], env);
  assert.equal(bad.code, 1);
});
