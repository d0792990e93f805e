import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startDevServer } from '../helpers/server.js';
import { RUN, mysqlFixture, skipUnless } from '../engines/database-fixtures.js';
import { hvacPython, runPython } from './python.js';

const py = hvacPython();
const fx = await mysqlFixture();
const skip = 'skip' in py ? py.skip : skipUnless('skip' in fx ? fx.skip : undefined);

test('hvac drives the database engine (config, roles, creds, static roles, static creds, rotate-root) and the lease API', { skip }, async () => {
  if (!('python' in py) || !('query' in fx)) return;
  const s = await startDevServer();
  assert.equal((await s.call('POST', 'sys/mounts/database', { type: 'database' })).status, 204);
  const staticUser = `hvs_${RUN}`;
  const rootUser = `hvr_${RUN}`;
  await fx.query("CREATE USER ?@'%' IDENTIFIED BY 'initial-pw'", [staticUser]);
  await fx.query("CREATE USER ?@'%' IDENTIFIED BY 'initial-pw'", [rootUser]);
  await fx.query("GRANT ALL PRIVILEGES ON *.* TO ?@'%' WITH GRANT OPTION", [rootUser]);
  const out = await runPython(py.python, join(import.meta.dirname, 'hvac_database.py'), {
    VAULT_ADDR: s.addr, VAULT_TOKEN: s.rootToken, DB_ADMIN: fx.admin, DB_ADMIN_PASSWORD: fx.adminPassword, DB_NAME: fx.database,
    ROOT_USER: rootUser, STATIC_USER: staticUser,
  }) as Record<string, unknown>;
  const dynamicUser = out['dynamic_user'] as string;
  const secondUser = out['second_user'] as string;
  delete out['dynamic_user'];
  delete out['second_user'];
  assert.deepEqual(out, {
    conn_plugin: 'mysql-database-plugin', conn_has_password: false, connections: ['maria'],
    role_ttl: [3600, 7200], roles: ['app'],
    creds_keys: ['password', 'username'], creds_lease_prefix: 'database/creds/app', lease_renewable: true, renewed_duration: 600, listed: 1,
    static_username: staticUser, static_period: 3600, static_roles: ['static'],
    static_creds_keys: ['last_vault_rotation', 'password', 'rotation_period', 'ttl', 'username'],
    rotated_root: true, deleted_role: 'InvalidPath',
  });
  // Revoked by revoke_lease and revoke_prefix; the static user's and the root's passwords changed.
  assert.equal(await fx.userExists(dynamicUser), false);
  assert.equal(await fx.userExists(secondUser), false);
  assert.match(await fx.login(staticUser, 'initial-pw') ?? '', /Access denied/);
  assert.match(await fx.login(rootUser, 'initial-pw') ?? '', /Access denied/);
});
