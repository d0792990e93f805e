import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import mysql from 'mysql2/promise';
import { startDevServer, type TestServer } from '../helpers/server.js';
import { RUN, mysqlFixture, skipUnless, waitFor, type MysqlFixture } from './database-fixtures.js';

// The database engine against the machine's MariaDB, which checks passwords: every credential
// is proven by logging in with it.

const fx = await mysqlFixture();
const skip = skipUnless('skip' in fx ? fx.skip : undefined);
const ROLE = `m${RUN}`;

async function setUp(f: MysqlFixture): Promise<TestServer> {
  const s = await startDevServer();
  assert.equal((await s.call('POST', 'sys/mounts/database', { type: 'database' })).status, 204);
  const cfg = await s.call('POST', 'database/config/maria', {
    plugin_name: 'mysql-database-plugin', allowed_roles: '*',
    connection_url: '{{username}}:{{password}}@tcp(127.0.0.1:3306)/', username: f.admin, password: f.adminPassword,
  });
  assert.equal(cfg.status, 204, JSON.stringify(cfg.body));
  return s;
}

describe('database engine on MariaDB', { skip, concurrency: true }, async () => {
  if (!('query' in fx)) return;
  const f = fx;
  const s = await setUp(f);
  const create = `CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'; GRANT SELECT ON \`${f.database}\`.canary TO '{{name}}'@'%';`;
  await s.call('POST', `database/roles/${ROLE}`, { db_name: 'maria', creation_statements: create, default_ttl: '1h', max_ttl: '2h' });

  test('dynamic creds log in; revoke ends their sessions and they cannot log in again', async () => {
    const c = await s.call('GET', `database/creds/${ROLE}`);
    assert.equal(c.status, 200, JSON.stringify(c.body));
    const { username, password } = c.body.data as { username: string; password: string };
    assert.ok(username.length <= 32 && username.startsWith(`v-root-${ROLE}-`), username);
    assert.equal(await f.login(username, password), undefined);
    assert.match(await f.login(username, 'wrong-password') ?? '', /Access denied/);
    const session = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: username, password, database: f.database });
    session.on('error', () => undefined);
    const rv = await s.call('PUT', 'sys/leases/revoke', { lease_id: c.body.lease_id });
    assert.equal(rv.status, 204, JSON.stringify(rv.body));
    assert.equal(await f.userExists(username), false);
    assert.match(await f.login(username, password) ?? '', /Access denied/);
    await assert.rejects(session.query('SELECT id FROM canary'));
    session.destroy();
  });

  test('dynamic creds stop working when their lease expires', async () => {
    await s.call('POST', `database/roles/${ROLE}-short`, { db_name: 'maria', creation_statements: create, default_ttl: 2 });
    const c = await s.call('GET', `database/creds/${ROLE}-short`);
    const { username, password } = c.body.data as { username: string; password: string };
    assert.equal(await f.login(username, password), undefined);
    await waitFor('the user to be dropped at expiry', async () => (await f.login(username, password)) !== undefined, 5000);
    assert.equal(await f.userExists(username), false);
  });

  test('renew stops at max_ttl; revoke-prefix and token revocation drop the users', async () => {
    await s.call('POST', `database/roles/${ROLE}-r`, { db_name: 'maria', creation_statements: create, default_ttl: 30, max_ttl: 40 });
    const token = (await s.call('POST', 'auth/token/create', { policies: ['root'] })).body.auth.client_token as string;
    const mine = await s.call('GET', `database/creds/${ROLE}-r`, undefined, { 'X-Vault-Token': token });
    const r = await s.call('PUT', 'sys/leases/renew', { lease_id: mine.body.lease_id, increment: 3600 });
    assert.equal(r.status, 200);
    assert.ok(r.body.lease_duration <= 40 && r.body.lease_duration > 30, String(r.body.lease_duration));
    assert.equal((await s.call('POST', 'auth/token/revoke', { token })).status, 204);
    assert.equal(await f.userExists(mine.body.data.username), false);
    const more = await Promise.all([1, 2, 3].map(() => s.call('GET', `database/creds/${ROLE}-r`)));
    assert.equal((await s.call('PUT', `sys/leases/revoke-prefix/database/creds/${ROLE}-r`)).status, 204);
    for (const m of more) assert.equal(await f.userExists(m.body.data.username), false);
  });

  test('rotate-root changes the root password (the old one stops working) and the engine keeps working', async () => {
    const root = `croot_${RUN}`;
    await f.query(`CREATE USER '${root}'@'%' IDENTIFIED BY 'initial-pw'`);
    await f.query(`GRANT ALL PRIVILEGES ON *.* TO '${root}'@'%' WITH GRANT OPTION`);
    await s.call('POST', 'database/config/rooted', {
      plugin_name: 'mysql-database-plugin', allowed_roles: `${ROLE}-rooted`,
      connection_url: '{{username}}:{{password}}@tcp(127.0.0.1:3306)/', username: root, password: 'initial-pw',
    });
    await s.call('POST', `database/roles/${ROLE}-rooted`, { db_name: 'rooted', creation_statements: create });
    assert.equal((await s.call('POST', 'database/rotate-root/rooted')).status, 204);
    assert.match(await f.login(root, 'initial-pw') ?? '', /Access denied/);
    const c = await s.call('GET', `database/creds/${ROLE}-rooted`);
    assert.equal(c.status, 200, JSON.stringify(c.body));
    assert.equal(await f.login(c.body.data.username, c.body.data.password), undefined);
    assert.equal(JSON.stringify((await s.call('GET', 'database/config/rooted')).body).includes('initial-pw'), false);
  });

  test('password policies: CRUD, generate, and the engine uses the connection\'s policy', async () => {
    const policy = 'length = 24\nrule "charset" {\n  charset = "abcdefghijklmnopqrstuvwxyz"\n  min-chars = 1\n}\nrule "charset" {\n  charset = "0123456789"\n  min-chars = 6\n}\n';
    assert.equal((await s.call('POST', `sys/policies/password/p${RUN}`, { policy })).status, 204);
    assert.equal((await s.call('GET', `sys/policies/password/p${RUN}`)).body.data.policy, policy);
    assert.ok((await s.call('LIST', 'sys/policies/password')).body.data.keys.includes(`p${RUN}`));
    const g = (await s.call('GET', `sys/policies/password/p${RUN}/generate`)).body.data.password as string;
    assert.match(g, /^[a-z0-9]{24}$/);
    assert.ok((g.match(/[0-9]/g) ?? []).length >= 6);
    assert.equal((await s.call('POST', 'sys/policies/password/bad', { policy: 'length = 3\nrule "charset" { charset = "ab" }' })).status, 400);
    assert.equal((await s.call('POST', 'sys/policies/password/bad', { policy: 'length = 8\nrule "charset" { charset = "ab"\n min-chars = 9 }' })).status, 400);
    await s.call('POST', 'database/config/policed', {
      plugin_name: 'mysql-database-plugin', allowed_roles: '*', password_policy: `p${RUN}`,
      connection_url: '{{username}}:{{password}}@tcp(127.0.0.1:3306)/', username: f.admin, password: f.adminPassword,
    });
    await s.call('POST', `database/roles/${ROLE}-pol`, { db_name: 'policed', creation_statements: create });
    const c = await s.call('GET', `database/creds/${ROLE}-pol`);
    assert.match(c.body.data.password, /^[a-z0-9]{24}$/);
    assert.equal(await f.login(c.body.data.username, c.body.data.password), undefined);
    assert.equal((await s.call('POST', 'database/config/policed', { password_policy: 'missing' })).status, 400);
    assert.equal((await s.call('DELETE', `sys/policies/password/p${RUN}`)).status, 204);
    assert.equal((await s.call('GET', `sys/policies/password/p${RUN}`)).status, 404);
  });

  test('T11: a template with quotes, ; and backticks makes a user with exactly that name, and nothing else runs', async () => {
    await s.call('POST', 'database/config/evil', {
      plugin_name: 'mysql-database-plugin', allowed_roles: '*', verify_connection: false,
      connection_url: '{{username}}:{{password}}@tcp(127.0.0.1:3306)/', username: f.admin, password: f.adminPassword,
      username_template: `e${RUN}'";\`x{{random 3}}`,
    });
    await s.call('POST', `database/roles/${ROLE}-evil`, {
      db_name: 'evil', creation_statements: `CREATE USER {{name}}@'%' IDENTIFIED BY {{password}}; GRANT SELECT ON \`${f.database}\`.canary TO '{{name}}'@'%'; DROP TABLE IF EXISTS \`${f.database}\`.\`x{{name}}\`;`,
    });
    const c = await s.call('GET', `database/creds/${ROLE}-evil`);
    assert.equal(c.status, 200, JSON.stringify(c.body));
    const { username, password } = c.body.data as { username: string; password: string };
    assert.ok(username.startsWith(`e${RUN}'";\`x`));
    assert.ok(await f.userExists(username));
    assert.equal(await f.login(username, password), undefined);
    assert.equal((await f.query<{ n: number }[]>(`SELECT count(*) AS n FROM \`${f.database}\`.canary`))[0]!.n, 1);
    assert.equal((await s.call('PUT', 'sys/leases/revoke', { lease_id: c.body.lease_id })).status, 204);
    assert.equal(await f.userExists(username), false);
    // A backslash cannot be carried safely whatever sql_mode says: refused before anything runs.
    await s.call('POST', 'database/config/evil', { username_template: `b${RUN}\\{{random 3}}` });
    assert.equal((await s.call('GET', `database/creds/${ROLE}-evil`)).status, 400);
  });
});
