import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import pg from 'pg';
import { startDevServer, type TestServer } from '../helpers/server.js';
import { RUN, pgFixture, skipUnless, waitFor, type PgFixture } from './database-fixtures.js';

// The database engine against the machine's PostgreSQL. The server trusts 127.0.0.1, so a
// login proves a role exists, not its password: passwords are checked against the stored
// SCRAM verifier instead.

const fx = await pgFixture();
const skip = skipUnless('skip' in fx ? fx.skip : undefined);

const ROLE = `r${RUN}`; // 7 characters: the default template's `truncate 8` keeps the run id
const CREATE = `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'; GRANT SELECT ON canary TO "{{name}}";`;

async function setUp(f: PgFixture): Promise<TestServer> {
  const s = await startDevServer();
  assert.equal((await s.call('POST', 'sys/mounts/database', { type: 'database' })).status, 204);
  const cfg = await s.call('POST', 'database/config/pg', {
    plugin_name: 'postgresql-database-plugin', allowed_roles: '*',
    connection_url: `postgresql://{{username}}:{{password}}@127.0.0.1:5432/${f.database}?sslmode=disable`,
    username: f.admin, password: f.adminPassword,
  });
  assert.equal(cfg.status, 204, JSON.stringify(cfg.body));
  return s;
}

async function canConnect(f: PgFixture, user: string, password: string): Promise<boolean> {
  const c = new pg.Client({ host: '127.0.0.1', port: 5432, database: f.database, user, password, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('SELECT id FROM canary');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

describe('database engine on PostgreSQL', { skip, concurrency: true }, async () => {
  if (!('query' in fx)) return;
  const f = fx;
  const s = await setUp(f);
  await s.call('POST', `database/roles/${ROLE}`, { db_name: 'pg', creation_statements: CREATE, default_ttl: '1h', max_ttl: '2h' });

  test('config: read hides the password, LIST, bad URL refused, unreachable server refused', async () => {
    const r = await s.call('GET', 'database/config/pg');
    assert.equal(r.body.data.plugin_name, 'postgresql-database-plugin');
    assert.equal(r.body.data.connection_details.username, f.admin);
    assert.equal(JSON.stringify(r.body).includes(f.adminPassword), false);
    assert.deepEqual((await s.call('LIST', 'database/config')).body.data.keys, ['pg']);
    assert.equal((await s.call('POST', 'database/config/bad', { plugin_name: 'postgresql-database-plugin', connection_url: 'file:///etc/passwd' })).status, 400);
    const down = await s.call('POST', 'database/config/down', { plugin_name: 'postgresql-database-plugin', connection_url: 'postgresql://u:secretpw@127.0.0.1:1/x' });
    assert.equal(down.status, 400);
    assert.equal(JSON.stringify(down.body).includes('secretpw'), false);
  });

  test('dynamic creds: the user exists and can read; after revoke it is gone', async () => {
    const c = await s.call('GET', `database/creds/${ROLE}`);
    assert.equal(c.status, 200, JSON.stringify(c.body));
    assert.match(c.body.lease_id, new RegExp(`^database/creds/${ROLE}/`));
    assert.equal(c.body.lease_duration, 3600);
    const { username, password } = c.body.data as { username: string; password: string };
    assert.match(username, new RegExp(`^v-root-${ROLE}-[A-Za-z0-9]{20}-\\d+$`));
    assert.ok(await f.passwordIs(username, password));
    assert.ok(await canConnect(f, username, password));
    { const rv = await s.call('PUT', 'sys/leases/revoke', { lease_id: c.body.lease_id }); assert.equal(rv.status, 204, JSON.stringify(rv.body)); }
    assert.equal(await f.roleExists(username), false);
    assert.equal(await canConnect(f, username, password), false);
  });

  test('coffer read database/creds/<role> prints a table with the lease id and TTL', async () => {
    const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
    const out = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', main, 'read', `database/creds/${ROLE}`], { env: { PATH: process.env['PATH'] ?? '', COFFER_ADDR: s.addr, COFFER_TOKEN: s.rootToken }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
      let stdout = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout }));
    });
    assert.equal(out.code, 0);
    const leaseId = new RegExp(`lease_id\\s+(database/creds/${ROLE}/\\S+)`).exec(out.stdout)?.[1];
    assert.ok(leaseId, out.stdout);
    assert.match(out.stdout, /lease_duration\s+1h/);
    assert.match(out.stdout, /username\s+v-root-/);
    assert.equal((await s.call('PUT', 'sys/leases/revoke', { lease_id: leaseId })).status, 204);
  });

  test('dynamic creds expire with their lease (short TTL)', async () => {
    await s.call('POST', `database/roles/${ROLE}-short`, { db_name: 'pg', creation_statements: CREATE, default_ttl: 2 });
    const c = await s.call('GET', `database/creds/${ROLE}-short`);
    const username = c.body.data.username as string;
    assert.ok(await f.roleExists(username));
    await waitFor('the user to be dropped at expiry', async () => !(await f.roleExists(username)), 5000);
  });

  test('renew moves VALID UNTIL and stops at max_ttl; revoke-prefix revokes all', async () => {
    await s.call('POST', `database/roles/${ROLE}-renew`, { db_name: 'pg', creation_statements: CREATE, default_ttl: 60, max_ttl: 120 });
    const c = await s.call('GET', `database/creds/${ROLE}-renew`);
    const username = c.body.data.username as string;
    const validUntil = async () => (await f.query<{ v: Date }>('SELECT rolvaliduntil AS v FROM pg_roles WHERE rolname = $1', [username])).rows[0]!.v.getTime();
    const before = await validUntil();
    const r = await s.call('PUT', 'sys/leases/renew', { lease_id: c.body.lease_id, increment: 100 });
    assert.equal(r.status, 200);
    assert.ok(r.body.lease_duration > 95 && r.body.lease_duration <= 100);
    assert.ok((await validUntil()) > before + 30_000);
    const capped = await s.call('PUT', 'sys/leases/renew', { lease_id: c.body.lease_id, increment: 10_000 });
    assert.ok(capped.body.lease_duration <= 120, String(capped.body.lease_duration));
    const more = await Promise.all([1, 2].map(() => s.call('GET', `database/creds/${ROLE}-renew`)));
    const names = [username, ...more.map((m) => m.body.data.username as string)];
    for (const n of names) assert.ok(await f.roleExists(n));
    assert.equal((await s.call('PUT', `sys/leases/revoke-prefix/database/creds/${ROLE}-renew`)).status, 204);
    for (const n of names) assert.equal(await f.roleExists(n), false);
  });

  test('revoking a token drops the users it obtained', async () => {
    const token = (await s.call('POST', 'auth/token/create', { policies: ['root'] })).body.auth.client_token as string;
    const c = await s.call('GET', `database/creds/${ROLE}`, undefined, { 'X-Vault-Token': token });
    const username = c.body.data.username as string;
    assert.match(username, /^v-token-/);
    assert.ok(await f.roleExists(username));
    assert.equal((await s.call('POST', 'auth/token/revoke', { token })).status, 204);
    assert.equal(await f.roleExists(username), false);
  });

  test('T11: quotes, ; and $$ in names and statements inject nothing', async () => {
    // A username template with every dangerous character; statements with ; in a literal and a $$ body.
    const evil = `x${RUN}"; DROP TABLE canary; --'`;
    await s.call('POST', 'database/config/evil', {
      plugin_name: 'postgresql-database-plugin', allowed_roles: '*', verify_connection: false,
      connection_url: `postgresql://{{username}}:{{password}}@127.0.0.1:5432/${f.database}`, username: f.admin, password: f.adminPassword,
      username_template: `${evil}{{random 4}}`,
    });
    await s.call('POST', `database/roles/${ROLE}-evil`, {
      db_name: 'evil',
      creation_statements: [
        `CREATE ROLE "{{name}}" LOGIN PASSWORD '{{password}}'; COMMENT ON ROLE "{{name}}" IS 'it''s; fine {{name}}';`,
        `DO $$ BEGIN EXECUTE format('GRANT SELECT ON canary TO %I', '{{name}}'); END $$;`,
      ],
      revocation_statements: `REVOKE ALL ON canary FROM "{{name}}"; DO $body$ BEGIN EXECUTE format('DROP ROLE %I', '{{name}}'); END $body$;`,
    });
    const c = await s.call('GET', `database/creds/${ROLE}-evil`);
    assert.equal(c.status, 200, JSON.stringify(c.body));
    const username = c.body.data.username as string;
    assert.ok(username.startsWith(evil));
    assert.ok(await f.roleExists(username));
    const comment = await f.query<{ d: string }>('SELECT shobj_description(oid, \'pg_authid\') AS d FROM pg_roles WHERE rolname = $1', [username]);
    assert.equal(comment.rows[0]!.d, `it's; fine ${username}`);
    assert.equal((await f.query<{ n: number }>('SELECT count(*)::int AS n FROM canary')).rows[0]!.n, 1);
    { const rv = await s.call('PUT', 'sys/leases/revoke', { lease_id: c.body.lease_id }); assert.equal(rv.status, 204, JSON.stringify(rv.body)); }
    assert.equal(await f.roleExists(username), false);
    // A name holding the $$ tag cannot be placed in a $$ body: refused before anything runs.
    await s.call('POST', 'database/config/evil', { username_template: `y${RUN}$$x{{random 4}}` });
    const refused = await s.call('GET', `database/creds/${ROLE}-evil`);
    assert.equal(refused.status, 400);
    assert.match(refused.body.errors[0], /\$\$/);
    assert.equal((await f.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_roles WHERE strpos(rolname, $1) > 0', [`y${RUN}`])).rows[0]!.n, 0);
  });

  test('rotate-root changes the root password and the engine keeps working', async () => {
    const root = `coffer_root_${RUN}`;
    await f.query(`CREATE ROLE "${root}" LOGIN CREATEROLE PASSWORD 'initial-pw'`);
    await f.query(`GRANT pg_signal_backend TO "${root}"`);
    await f.query(`GRANT SELECT ON canary TO "${root}" WITH GRANT OPTION`);
    await s.call('POST', 'database/config/rooted', {
      plugin_name: 'postgresql-database-plugin', allowed_roles: `${ROLE}-rooted`,
      connection_url: `postgresql://{{username}}:{{password}}@127.0.0.1:5432/${f.database}`, username: root, password: 'initial-pw',
    });
    await s.call('POST', `database/roles/${ROLE}-rooted`, { db_name: 'rooted', creation_statements: CREATE });
    assert.equal((await s.call('POST', 'database/rotate-root/rooted')).status, 204);
    assert.equal(await f.passwordIs(root, 'initial-pw'), false);
    const c = await s.call('GET', `database/creds/${ROLE}-rooted`);
    assert.equal(c.status, 200, JSON.stringify(c.body));
    assert.ok(await f.roleExists(c.body.data.username));
    assert.equal((await s.call('POST', 'database/reset/rooted')).status, 204);
    { const rv = await s.call('PUT', 'sys/leases/revoke', { lease_id: c.body.lease_id }); assert.equal(rv.status, 204, JSON.stringify(rv.body)); }
    assert.equal((await s.call('GET', `database/creds/${ROLE}-other`)).status, 400); // not an allowed role
  });
});
