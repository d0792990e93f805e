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
