/**
 * A real server on `storage "postgresql"` (the local PostgreSQL, a table of its own): init,
 * unseal, KV v2 over HTTP, a restart that comes back sealed with the data intact, and a table
 * that holds no plaintext. Skipped with the reason when PostgreSQL is down, except on CI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { ServerConfig } from '../../src/config/index.js';
import { PG_URL, pgUnreachable, skipUnless } from '../engines/database-fixtures.js';
import { ok, startConfiguredServer } from '../helpers/server.js';

const table = `coffer_server_${randomBytes(3).toString('hex')}`;
const down = await pgUnreachable();

const config: ServerConfig = {
  storage: { type: 'postgresql', connectionUrl: PG_URL, table, haEnabled: false, maxParallel: 8 },
  listeners: [{ type: 'tcp', host: '127.0.0.1', port: 0, tls: null }],
  apiAddr: null, clusterName: 'coffer-test', ui: false,
  defaultLeaseTtlSeconds: 2_764_800, maxLeaseTtlSeconds: 2_764_800, logLevel: 'error',
};

test('a server on storage "postgresql": init, unseal, KV v2, restart sealed with the data intact, no plaintext in the table', { skip: skipUnless(down) }, async () => {
  const canary = `pg-canary-${randomBytes(8).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    let s = await startConfiguredServer(config);
    const init = await ok(s.call('PUT', 'sys/init', { secret_shares: 1, secret_threshold: 1 }), 200);
    const as = (token: string) => (method: string, path: string, body?: unknown) => s.call(method, path, body, { 'X-Vault-Token': token });
    await ok(s.call('PUT', 'sys/unseal', { key: init.keys_base64[0] }), 200);
    const root = as(init.root_token);
    await ok(root('POST', 'sys/mounts/secret', { type: 'kv', options: { version: '2' } }));
    await ok(root('POST', 'secret/data/app/db', { data: { password: canary } }), 200);
    await ok(root('POST', 'secret/data/app/api', { data: { key: 'k' } }), 200);
    assert.deepEqual((await ok(root('LIST', 'secret/metadata/app'), 200)).data.keys, ['api', 'db']);

    // A second server on the same table is refused: it would serve from a stale cache.
    await assert.rejects(startConfiguredServer(config), /in use by another Coffer server/);

    await s.server.close();
    s = await startConfiguredServer(config);
    assert.equal((await ok(s.call('GET', 'sys/seal-status'), 200)).sealed, true, 'a restart comes back sealed');
    await ok(s.call('PUT', 'sys/unseal', { key: init.keys_base64[0] }), 200);
    const read = await ok(s.call('GET', 'secret/data/app/db', undefined, { 'X-Vault-Token': init.root_token }), 200);
    assert.equal(read.data.data.password, canary);

    const rows = (await admin.query<{ value: Buffer }>(`SELECT value FROM "${table}"`)).rows;
    assert.ok(rows.length > 10);
    for (const needle of [canary, init.root_token, init.keys_base64[0]]) {
      for (const form of [Buffer.from(needle), Buffer.from(Buffer.from(needle).toString('base64')), Buffer.from(Buffer.from(needle).toString('hex'))]) {
        assert.ok(rows.every((r) => !r.value.includes(form)), 'no secret, token or key in the table');
      }
    }
    await s.server.close();
  } finally {
    await admin.query(`DROP TABLE IF EXISTS "${table}"`);
    await admin.end();
  }
});
