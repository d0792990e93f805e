import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CofferError } from '../../src/util/errors.js';
import { join } from 'node:path';
import { InmemStorage, SqliteStorage } from '../../src/storage/index.js';
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
