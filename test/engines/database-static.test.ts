import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startDevServer, type TestServer } from '../helpers/server.js';
import { tmpDir } from '../helpers/tmp.js';
import { RUN, mysqlFixture, pgFixture, skipUnless, waitFor, type MysqlFixture } from './database-fixtures.js';

// Static roles against MariaDB (which checks passwords, so every claim is proven by a login),
// and one against PostgreSQL (checked through its SCRAM verifier).

const fx = await mysqlFixture();
const skip = skipUnless('skip' in fx ? fx.skip : undefined);

async function mount(f: MysqlFixture, dataDir?: string): Promise<TestServer> {
  const s = await startDevServer(dataDir ? { dataDir } : {});
  if ((await s.call('GET', 'database/config/maria')).status === 200) return s;
  assert.equal((await s.call('POST', 'sys/mounts/database', { type: 'database' })).status, 204);
  const cfg = await s.call('POST', 'database/config/maria', {
    plugin_name: 'mysql-database-plugin', allowed_roles: '*',
    connection_url: '{{username}}:{{password}}@tcp(127.0.0.1:3306)/', username: f.admin, password: f.adminPassword,
  });
  assert.equal(cfg.status, 204, JSON.stringify(cfg.body));
  return s;
}

const creds = async (s: TestServer, role: string) => {
  const r = await s.call('GET', `database/static-creds/${role}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.data as { username: string; password: string; ttl: number; last_vault_rotation: string; current?: { username: string; password: string }; previous?: { username: string; password: string } | null };
};

describe('static roles on MariaDB', { skip, concurrency: true }, async () => {
  if (!('query' in fx)) return;
  const f = fx;
  const user = async (name: string, password = 'initial-pw'): Promise<string> => {
    await f.query("CREATE USER ?@'%' IDENTIFIED BY ?", [name, password]);
    await f.query(`GRANT SELECT ON \`${f.database}\`.canary TO ?@'%'`, [name]);
    return name;
  };
  const s = await mount(f);

  test('single: creating rotates at once; rotate-role changes the password and the old one stops working', async () => {
    const name = await user(`single_${RUN}`);
    assert.equal((await s.call('POST', 'database/static-roles/single', { db_name: 'maria', username: name, rotation_period: '1h' })).status, 204);
    const first = await creds(s, 'single');
    assert.equal(first.username, name);
    assert.ok(first.ttl > 3500 && first.ttl <= 3600);
    assert.match(await f.login(name, 'initial-pw') ?? '', /Access denied/);
    assert.equal(await f.login(name, first.password), undefined);
    assert.equal((await s.call('POST', 'database/rotate-role/single')).status, 204);
    const second = await creds(s, 'single');
    assert.notEqual(second.password, first.password);
    assert.equal(await f.login(name, second.password), undefined);
    assert.match(await f.login(name, first.password) ?? '', /Access denied/);
    const read = (await s.call('GET', 'database/static-roles/single')).body.data;
    assert.equal(read.rotation_period, 3600);
    assert.equal(read.rotation_strategy, 'single');
    assert.deepEqual((await s.call('LIST', 'database/static-roles')).body.data.keys.includes('single'), true);
  });

  test('alternating: the idle account is rotated, the previous one keeps working until the next rotation', async () => {
    const a = await user(`alt_${RUN}`);
    const b = await user(`alt_${RUN}_b`);
    assert.equal((await s.call('POST', 'database/static-roles/alt', { db_name: 'maria', username: a, rotation_strategy: 'alternating', rotation_period: '1h' })).status, 204);
    const c1 = await creds(s, 'alt');
    assert.equal(c1.username, a);
    assert.equal(c1.previous, null);
    await s.call('POST', 'database/rotate-role/alt');
    const c2 = await creds(s, 'alt');
    assert.deepEqual([c2.username, c2.previous], [b, { username: a, password: c1.password }]);
    assert.equal(await f.login(b, c2.password), undefined);
    assert.equal(await f.login(a, c1.password), undefined); // previous: still valid
    await s.call('POST', 'database/rotate-role/alt');
    const c3 = await creds(s, 'alt');
    assert.deepEqual([c3.username, c3.previous], [a, { username: b, password: c2.password }]);
    assert.equal(await f.login(a, c3.password), undefined);
    assert.equal(await f.login(b, c2.password), undefined);
    assert.match(await f.login(a, c1.password) ?? '', /Access denied/); // rotated away at the next rotation
  });

  test('a failing rotation leaves the current credential intact and the failure visible', async () => {
    const a = await user(`fail_${RUN}`);
    await user(`fail_${RUN}_b`);
    await s.call('POST', 'database/static-roles/fail', { db_name: 'maria', username: a, rotation_strategy: 'alternating', rotation_period: '1h' });
    const before = await creds(s, 'fail');
    // The statement runs but changes nothing: the login check catches it before the switch.
    await s.call('POST', 'database/static-roles/fail', { rotation_statements: 'SELECT 1' });
    const r = await s.call('POST', 'database/rotate-role/fail');
    assert.equal(r.status, 400);
    assert.match(r.body.errors[0], /logging in with it failed/);
    const after = await creds(s, 'fail');
    assert.equal(after.username, before.username);
    assert.equal(after.password, before.password);
    assert.equal(await f.login(a, before.password), undefined);
    const read = (await s.call('GET', 'database/static-roles/fail')).body.data;
    assert.equal(read.rotation_stage, 'pending');
    assert.match(read.last_rotation_error, /logging in with it failed/);
    // A statement that errors: the same.
    await s.call('POST', 'database/static-roles/fail', { rotation_statements: "ALTER USER '{{name}}'@'no-such-host' IDENTIFIED BY '{{password}}'" });
    assert.equal((await s.call('POST', 'database/rotate-role/fail')).status, 400);
    assert.equal((await creds(s, 'fail')).password, before.password);
    // Fixed: the pending rotation completes.
    await s.call('POST', 'database/static-roles/fail', { rotation_statements: [] });
    assert.equal((await s.call('POST', 'database/rotate-role/fail')).status, 204);
    const fixed = await creds(s, 'fail');
    assert.equal(await f.login(fixed.username, fixed.password), undefined);
    assert.equal((await s.call('GET', 'database/static-roles/fail')).body.data.rotation_stage, undefined);
  });

  test('a scheduled rotation happens on time and survives a restart in between, once', async () => {
    const dir = tmpDir('coffer-static-restart');
    let srv = await mount(f, dir);
    const a = await user(`sched_${RUN}`);
    const b = await user(`sched_${RUN}_b`);
    assert.equal((await srv.call('POST', 'database/static-roles/sched', { db_name: 'maria', username: a, rotation_strategy: 'alternating', rotation_period: 5 })).status, 204);
    const first = await creds(srv, 'sched');
    await srv.server.close();
    srv = await mount(f, dir);
    const rotated = await waitFor('the scheduled rotation', async () => {
      const c = await creds(srv, 'sched');
      return c.last_vault_rotation !== first.last_vault_rotation ? c : undefined;
    }, 9000);
    assert.ok(Date.parse(rotated.last_vault_rotation) >= Date.parse(first.last_vault_rotation) + 5000, 'not before its time');
    // Exactly one rotation: the previous credential is still the first one.
    assert.deepEqual([rotated.username, rotated.previous], [b, { username: a, password: first.password }]);
    assert.equal(await f.login(b, rotated.password), undefined);
    assert.equal(await f.login(a, first.password), undefined);
  });

  test('rotation_schedule (cron) sets the next rotation on the schedule; bad timing is refused', async () => {
    const name = await user(`cron_${RUN}`);
    const w = await s.call('POST', 'database/static-roles/cron', { db_name: 'maria', username: name, rotation_schedule: '*/5 * * * *', rotation_window: '1h' });
    assert.equal(w.status, 204, JSON.stringify(w.body));
    const c = await creds(s, 'cron');
    assert.ok(c.ttl <= 300);
    const next = new Date((await s.call('GET', 'database/static-roles/cron')).body.data.next_vault_rotation as string);
    assert.equal(next.getUTCMinutes() % 5, 0);
    assert.equal(next.getUTCSeconds(), 0);
    const bad = (body: Record<string, unknown>) => s.call('POST', 'database/static-roles/bad', { db_name: 'maria', username: name, ...body });
    assert.equal((await bad({ rotation_schedule: '61 * * * *' })).status, 400);
    assert.equal((await bad({ rotation_schedule: '* * *' })).status, 400);
    assert.equal((await bad({ rotation_period: 2 })).status, 400);
    assert.equal((await bad({ rotation_period: 60, rotation_schedule: '0 * * * *' })).status, 400);
    assert.equal((await bad({ rotation_schedule: '0 * * * *', rotation_window: 60 })).status, 400);
  });

  test('T11: a static username with quotes, ; and backticks is rotated without injection', async () => {
    const evil = `ev${RUN}'";\`--`;
    await user(evil);
    assert.equal((await s.call('POST', 'database/static-roles/evil', { db_name: 'maria', username: evil, rotation_period: '1h' })).status, 204);
    const c = await creds(s, 'evil');
    assert.equal(c.username, evil);
    assert.equal(await f.login(evil, c.password), undefined);
    assert.equal((await f.query<{ n: number }[]>(`SELECT count(*) AS n FROM \`${f.database}\`.canary`))[0]!.n, 1);
  });
});

const pgfx = await pgFixture();
test('static role on PostgreSQL: rotate-role changes the password', { skip: skipUnless('skip' in pgfx ? pgfx.skip : undefined) }, async () => {
  if (!('query' in pgfx)) return;
  const name = `pgstatic_${RUN}"q`;
  await pgfx.query(`CREATE ROLE "${name.replace(/"/g, '""')}" LOGIN PASSWORD 'initial-pw'`);
  const s = await startDevServer();
  await s.call('POST', 'sys/mounts/database', { type: 'database' });
  await s.call('POST', 'database/config/pg', {
    plugin_name: 'postgresql-database-plugin', allowed_roles: '*',
    connection_url: `postgresql://{{username}}:{{password}}@127.0.0.1:5432/${pgfx.database}`, username: pgfx.admin, password: pgfx.adminPassword,
  });
  assert.equal((await s.call('POST', 'database/static-roles/pg', { db_name: 'pg', username: name, rotation_period: '1h' })).status, 204);
  const first = await creds(s, 'pg');
  assert.ok(await pgfx.passwordIs(name, first.password));
  assert.equal((await s.call('POST', 'database/rotate-role/pg')).status, 204);
  const second = await creds(s, 'pg');
  assert.ok(await pgfx.passwordIs(name, second.password));
  assert.equal(await pgfx.passwordIs(name, first.password), false);
});

test('statement rendering: each value is escaped for where it stands; ; splits only at the top level', async () => {
  const { render, splitStatements } = await import('../../src/engines/database/sql.js');
  const { nextCronTime, parseCron } = await import('../../src/engines/database/cron.js');
  const v = { name: `a"b'c`, password: `p'w\\x` };
  assert.equal(render(`CREATE ROLE "{{name}}" PASSWORD '{{password}}'`, v, 'postgres'), `CREATE ROLE "a""b'c" PASSWORD 'p''w\\x'`);
  assert.equal(render(`ALTER ROLE {{name}} PASSWORD {{password}}`, v, 'postgres'), `ALTER ROLE "a""b'c" PASSWORD E'p''w\\\\x'`);
  assert.equal(render(`SELECT E'{{password}}'`, v, 'postgres'), `SELECT E'p''w\\\\x'`);
  assert.equal(render(`-- {{name}}\nSELECT 1 /* {{password}} */`, v, 'postgres'), `-- {{name}}\nSELECT 1 /* {{password}} */`);
  assert.equal(render('DO $a$ BEGIN PERFORM $b$ x $b$; EXECUTE \'{{name}}\'; END $a$', v, 'postgres'), `DO $a$ BEGIN PERFORM $b$ x $b$; EXECUTE 'a"b''c'; END $a$`);
  assert.throws(() => render('DO $$ {{name}} $$', { name: 'x$$y' }, 'postgres'), /\$\$/);
  assert.equal(render('CREATE USER `{{name}}`@{{name}}', { name: 'x`y' }, 'mysql'), "CREATE USER `x``y`@'x`y'");
  assert.throws(() => render("SET PASSWORD = '{{password}}'", v, 'mysql'), /backslash/);
  assert.deepEqual(splitStatements([`A 'x;y'; B "p;q"; DO $$ C; D $$; -- e;f\nG`], 'postgres'), [`A 'x;y'`, `B "p;q"`, 'DO $$ C; D $$', '-- e;f\nG']);
  assert.deepEqual(splitStatements(["A 'it\\'s; x'; B"], 'mysql'), ["A 'it\\'s; x'", 'B']);
  const at = Date.UTC(2026, 0, 31, 23, 59, 30);
  assert.equal(nextCronTime(parseCron('0 0 1 * *'), at), Date.UTC(2026, 1, 1, 0, 0));
  assert.equal(nextCronTime(parseCron('30 4 * * mon'), at), Date.UTC(2026, 1, 2, 4, 30));
  assert.equal(nextCronTime(parseCron('*/15 * 13 * 5'), at), Date.UTC(2026, 1, 6, 0, 0)); // day 13 or a Friday
  assert.equal(nextCronTime(parseCron('0 0 29 2 *'), at), Date.UTC(2028, 1, 29, 0, 0));
});
