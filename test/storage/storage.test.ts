import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CofferError } from '../../src/util/errors.js';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { InmemStorage, PostgresStorage, SqliteStorage } from '../../src/storage/index.js';
import { PG_URL, pgUnreachable, skipUnless } from '../engines/database-fixtures.js';
import { storageContract } from './contract.js';
import { tmpDir } from '../helpers/tmp.js';

storageContract('inmem', async () => new InmemStorage());

const dir = tmpDir('sqlite-contract');
const path = join(dir, 'contract.db');
storageContract('sqlite', async () => new SqliteStorage({ path }), async (s) => {
  await s.close();
  return new SqliteStorage({ path });
});

test('sqlite: one server per database file; a second opener is refused with a clear error, then admitted once the first closes', async () => {
  const file = join(tmpDir('sqlite-owner'), 'owned.db');
  const first = new SqliteStorage({ path: file });
  await first.put('k', Buffer.from('v'));
  assert.throws(() => new SqliteStorage({ path: file }), (e: unknown) =>
    e instanceof CofferError && e.code === 'storage_failure' && /in use by another process/.test(e.message));
  assert.equal(Buffer.from((await first.get('k'))!).toString(), 'v', 'the owner is unaffected');
  await first.close();
  const second = new SqliteStorage({ path: file });
  assert.equal(Buffer.from((await second.get('k'))!).toString(), 'v');
  await second.close();
});

// PostgreSQL: a table of its own per run in the local server's `postgres` database, dropped at
// the end. Skipped (with the reason) when the server is down, except on CI.
const pgTable = `coffer_contract_${randomBytes(3).toString('hex')}`;
const pgSkip = skipUnless(await pgUnreachable());
const openPg = (table = pgTable): Promise<PostgresStorage> => PostgresStorage.open({ connectionUrl: PG_URL, table, maxParallel: 4 });

if (pgSkip) {
  test('storage contract: postgresql', { skip: pgSkip }, () => {});
} else {
  storageContract('postgresql', () => openPg(), async (s) => {
    await s.close();
    return openPg();
  });

  test('postgresql: Vault\'s table layout, one server per table, and a clear error for a bad connection', async () => {
    const table = `${pgTable}_own`;
    const first = await openPg(table);
    await first.put('a/b/c', Buffer.from('v'));
    await first.put('top', Buffer.from('t'));
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      const rows = (await admin.query(`SELECT parent_path, path, key FROM "${table}" ORDER BY path, key`)).rows;
      assert.deepEqual(rows, [{ parent_path: '', path: '/', key: 'top' }, { parent_path: '/a/', path: '/a/b/', key: 'c' }]);
      await assert.rejects(openPg(table), (e: unknown) => e instanceof CofferError && /in use by another Coffer server/.test(e.message));
      await first.close();
      const second = await openPg(table);
      assert.equal(Buffer.from((await second.get('a/b/c'))!).toString(), 'v');
      await second.close();
      await assert.rejects(
        PostgresStorage.open({ connectionUrl: 'postgres://nobody:hunter2@127.0.0.1:1/none', table, maxParallel: 1 }),
        (e: unknown) => e instanceof CofferError && e.code === 'storage_failure' && !e.message.includes('hunter2'),
      );
    } finally {
      await admin.query(`DROP TABLE IF EXISTS "${table}", "${pgTable}"`);
      await admin.end();
    }
  });
}
