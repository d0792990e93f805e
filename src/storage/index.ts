export type { Storage, StorageOp, HALockable, ChangeNotifier } from './types.js';
export { isHALockable } from './types.js';
export { InmemStorage } from './inmem.js';
export { SqliteStorage, type SqliteOptions } from './sqlite.js';
export { PostgresStorage, type PostgresOptions } from './postgresql.js';
export { PrefixView, collectKeys, getJson, putJson, jsonOp } from './view.js';
