import pg from 'pg';
import { CofferError } from '../util/errors.js';
import { assertKey, assertPrefix, type Storage, type StorageOp } from './types.js';

export interface PostgresOptions {
  /** `postgres://` or `postgresql://` URL (checked by the config layer). */
  readonly connectionUrl: string;
  /** A plain identifier, optionally `schema.table` (checked by the config layer). */
  readonly table: string;
  /** Connections in the pool (`max_parallel`, Vault's default 128). */
  readonly maxParallel: number;
}

/**
 * Storage in a PostgreSQL table laid out as Vault's postgresql backend lays it out, so an
 * operator's existing DDL, grants and monitoring carry over:
 *
 *   vault_kv_store (parent_path TEXT, path TEXT, key TEXT, value BYTEA, PRIMARY KEY (path, key))
 *
 * A key `a/b/c` is stored as path `/a/b/`, key `c`, parent_path `/a/`. Paths compare in the "C"
 * collation (bytewise), so a folder is a key range on the primary key.
 *
 * One server per table: a session-level advisory lock, held on a connection of its own for as
 * long as the storage is open, refuses a second server (its read cache would go stale).
 * Several nodes on one table is what HA (`ha_enabled`) will be for.
 */
export class PostgresStorage implements Storage {
  readonly #pool: pg.Pool;
  readonly #owner: pg.PoolClient;
  readonly #sql: { get: string; put: string; del: string; leaves: string; folders: string };

  private constructor(pool: pg.Pool, owner: pg.PoolClient, table: string) {
    this.#pool = pool;
    this.#owner = owner;
    this.#sql = {
      get: `SELECT value FROM ${table} WHERE path = $1 AND key = $2`,
      put: `INSERT INTO ${table} (parent_path, path, key, value) VALUES ($1, $2, $3, $4) ON CONFLICT (path, key) DO UPDATE SET value = excluded.value`,
      del: `DELETE FROM ${table} WHERE path = $1 AND key = $2`,
      leaves: `SELECT key FROM ${table} WHERE path = $1`,
      // The first segment below the prefix of every path inside it: its sub-folders.
      folders: `SELECT DISTINCT split_part(substr(path, length($1) + 1), '/', 1) AS folder FROM ${table} WHERE path > $1 AND path < $2`,
    };
  }

  /** Connects, creates the table if missing, and takes the table's advisory lock. */
  static async open(options: PostgresOptions): Promise<PostgresStorage> {
    const table = quoteTable(options.table);
    const pool = new pg.Pool({ connectionString: options.connectionUrl, max: options.maxParallel + 1, connectionTimeoutMillis: 10_000 });
    // An idle connection that breaks is the pool's to replace, not a crash.
    pool.on('error', () => undefined);
    let owner: pg.PoolClient | undefined;
    try {
      owner = await pool.connect();
      await owner.query(`CREATE TABLE IF NOT EXISTS ${table} (
        parent_path TEXT COLLATE "C" NOT NULL,
        path        TEXT COLLATE "C",
        key         TEXT COLLATE "C",
        value       BYTEA,
        CONSTRAINT ${quoteIdent(`${bareName(options.table)}_pkey`)} PRIMARY KEY (path, key))`);
      await owner.query(`CREATE INDEX IF NOT EXISTS ${quoteIdent(`${bareName(options.table)}_parent_path_idx`)} ON ${table} (parent_path)`);
      const lock = await owner.query<{ held: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS held', [`coffer:${options.table}`]);
      if (lock.rows[0]?.held !== true) {
        throw new CofferError('storage_failure', `postgresql table ${options.table} is in use by another Coffer server (one server per table until HA)`);
      }
    } catch (cause) {
      owner?.release(true);
      await pool.end().catch(() => undefined);
      if (cause instanceof CofferError) throw cause;
      // The URL may carry a password: never echo it, only the server's own message.
      throw new CofferError('storage_failure', `cannot open postgresql storage: ${describe(cause)}`);
    }
    return new PostgresStorage(pool, owner, table);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    assertKey(key);
    const [path, name] = split(key);
    const r = await this.#run<{ value: Buffer }>(this.#sql.get, [path, name]);
    const row = r.rows[0];
    return row === undefined ? undefined : new Uint8Array(row.value.buffer, row.value.byteOffset, row.value.byteLength);
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    assertKey(key);
    await this.#run(this.#sql.put, putParams(key, value));
  }

  async delete(key: string): Promise<void> {
    assertKey(key);
    await this.#run(this.#sql.del, split(key));
  }

  async list(prefix: string): Promise<string[]> {
    assertPrefix(prefix);
    const path = `/${prefix}`;
    // '0' is the code point after '/': every path inside `path` sorts before `path` minus its '/' plus '0'.
    const [leaves, folders] = await Promise.all([
      this.#run<{ key: string }>(this.#sql.leaves, [path]),
      this.#run<{ folder: string }>(this.#sql.folders, [path, `${path.slice(0, -1)}0`]),
    ]);
    const out = [...leaves.rows.map((r) => r.key), ...folders.rows.map((r) => `${r.folder}/`)];
    return out.sort();
  }

  async transaction(ops: readonly StorageOp[]): Promise<void> {
    for (const op of ops) assertKey(op.key);
    const client = await this.#connect();
    try {
      await client.query('BEGIN');
      for (const op of ops) {
        if (op.kind === 'put') await client.query(this.#sql.put, putParams(op.key, op.value));
        else await client.query(this.#sql.del, split(op.key));
      }
      await client.query('COMMIT');
    } catch (cause) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw failure(cause);
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    this.#owner.release();
    await this.#pool.end();
  }

  async #run<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await this.#pool.query<R>(sql, params);
    } catch (cause) {
      throw failure(cause);
    }
  }

  async #connect(): Promise<pg.PoolClient> {
    try {
      return await this.#pool.connect();
    } catch (cause) {
      throw failure(cause);
    }
  }
}

/** `a/b/c` → [`/a/b/`, `c`]; `c` → [`/`, `c`]. */
function split(key: string): [string, string] {
  const i = key.lastIndexOf('/');
  return [`/${key.slice(0, i + 1)}`, key.slice(i + 1)];
}

function putParams(key: string, value: Uint8Array): unknown[] {
  const [path, name] = split(key);
  // The parent of `/a/b/` is `/a/`; of `/` it is '' (as Vault stores it).
  const parent = path === '/' ? '' : path.slice(0, path.lastIndexOf('/', path.length - 2) + 1);
  return [parent, path, name, Buffer.from(value.buffer, value.byteOffset, value.byteLength)];
}

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const quoteTable = (table: string): string => table.split('.').map(quoteIdent).join('.');
const bareName = (table: string): string => table.split('.').pop() ?? table;

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function failure(cause: unknown): CofferError {
  return new CofferError('storage_failure', `postgresql storage: ${describe(cause)}`);
}
