import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { CofferError } from '../util/errors.js';
import { assertKey, assertPrefix, type Storage, type StorageOp } from './types.js';

interface PendingWrite {
  readonly ops: readonly StorageOp[];
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

export interface SqliteOptions {
  path: string;
  /** 'full' (default) survives power loss; 'normal' only process crashes (benchmark reference). */
  synchronous?: 'full' | 'normal';
}

/**
 * The embedded default backend: one SQLite file in WAL mode. With synchronous=FULL every
 * acknowledged write has been fsynced, so it survives `kill -9` and power loss.
 */
export class SqliteStorage implements Storage {
  readonly #db: Database.Database;
  readonly #get: Database.Statement<[string], { value: Buffer }>;
  readonly #put: Database.Statement<[string, Uint8Array]>;
  readonly #del: Database.Statement<[string]>;
  /** Keys in [lo, hi), in order: LIST scans leaves and re-seeks past each sub-folder. */
  readonly #range: Database.Statement<[string, string], { key: string }>;
  readonly #tx: (ops: readonly StorageOp[]) => void;
  /** Group commit: writes that arrive in the same tick share one transaction and one fsync. */
  readonly #batchTx: (batch: readonly PendingWrite[]) => void;
  #pending: PendingWrite[] = [];

  constructor(options: SqliteOptions) {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true, mode: 0o700 });
    // Waits at most a second for a lock at open: the owner of a file is a live process (a
    // killed one's locks go with it), and a second server should fail fast, not hang.
    let db: Database.Database;
    try {
      db = new Database(options.path, { timeout: 1000 });
    } catch (cause) {
      throw new CofferError('storage_failure', `cannot open sqlite storage at ${options.path}`, { cause });
    }
    try {
      this.#db = db;
      // One process owns the file: a second server on it would serve from a stale read cache,
      // so it is refused (SQLITE_BUSY) instead. Set before WAL, this also keeps the WAL index in
      // the heap, not in a shared-memory file locked with fcntl() around every read.
      this.#db.pragma('locking_mode = EXCLUSIVE');
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
      // 64 MiB of page cache (SQLite's default is 2 MiB): the B-tree's inner pages of a store
      // with millions of records stay in memory, so a lookup costs one leaf page read.
      this.#db.pragma('cache_size = -65536');
      this.#db.exec('CREATE TABLE IF NOT EXISTS coffer_kv (key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL) WITHOUT ROWID');
    } catch (cause) {
      db.close();
      const busy = (cause as { code?: unknown }).code === 'SQLITE_BUSY';
      throw new CofferError('storage_failure', busy
        ? `sqlite storage at ${options.path} is in use by another process (one Coffer server per database file)`
        : `cannot open sqlite storage at ${options.path}`, { cause });
    }
    this.#get = this.#db.prepare('SELECT value FROM coffer_kv WHERE key = ?');
    this.#put = this.#db.prepare('INSERT INTO coffer_kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
    this.#del = this.#db.prepare('DELETE FROM coffer_kv WHERE key = ?');
    this.#range = this.#db.prepare('SELECT key FROM coffer_kv WHERE key >= ? AND key < ? ORDER BY key');
    this.#tx = this.#db.transaction((ops: readonly StorageOp[]) => {
      for (const op of ops) {
        if (op.kind === 'put') this.#put.run(op.key, op.value);
        else this.#del.run(op.key);
      }
    });
    this.#batchTx = this.#db.transaction((batch: readonly PendingWrite[]) => {
      for (const w of batch) this.#tx(w.ops);
    });
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    assertKey(key);
    const row = this.#get.get(key);
    return row === undefined ? undefined : new Uint8Array(row.value.buffer, row.value.byteOffset, row.value.byteLength);
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    assertKey(key);
    // Copied now: the caller may reuse its buffer before the batch commits.
    return this.#enqueue([{ kind: 'put', key, value: Buffer.from(value) }]);
  }

  async delete(key: string): Promise<void> {
    assertKey(key);
    return this.#enqueue([{ kind: 'delete', key }]);
  }

  async list(prefix: string): Promise<string[]> {
    assertPrefix(prefix);
    // '0' is the code point after '/', so `folder + '0'` sorts (bytewise, as SQLite compares
    // TEXT) after everything inside `folder/`: the same trick bounds the prefix itself.
    const hi = prefix === '' ? '\u{10FFFF}\u{10FFFF}' : prefix.slice(0, -1) + '0';
    const out: string[] = [];
    let lo: string | undefined = prefix;
    // Leaves are read in one ordered scan; at a sub-folder the scan stops and seeks past the
    // folder's whole subtree, so a folder of 10,000 secrets costs one pass, not 10,000 seeks.
    while (lo !== undefined) {
      const from: string = lo;
      lo = undefined;
      for (const row of this.#range.iterate(from, hi)) {
        const rest = row.key.slice(prefix.length);
        const slash = rest.indexOf('/');
        if (slash < 0) {
          out.push(rest);
          continue;
        }
        out.push(rest.slice(0, slash + 1));
        lo = prefix + rest.slice(0, slash) + '0';
        break; // leaving the loop ends the statement; the next pass starts after the folder
      }
    }
    return out;
  }

  async transaction(ops: readonly StorageOp[]): Promise<void> {
    for (const op of ops) assertKey(op.key);
    return this.#enqueue(ops.map((op) => (op.kind === 'put' ? { ...op, value: Buffer.from(op.value) } : op)));
  }

  async close(): Promise<void> {
    this.#flush();
    if (this.#db.open) this.#db.close();
  }

  /**
   * Every write is acknowledged only after the transaction holding it has committed (and, with
   * synchronous=FULL, been fsynced). Writes queued in one tick commit together; nested
   * transactions become savepoints, so each caller's ops still apply all-or-nothing.
   */
  #enqueue(ops: readonly StorageOp[]): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#pending.length === 0) setImmediate(() => this.#flush());
      this.#pending.push({ ops, resolve, reject });
    });
  }

  #flush(): void {
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    try {
      this.#batchTx(batch);
      for (const w of batch) w.resolve();
    } catch {
      // One caller's failure must not fail the others: retry each alone.
      for (const w of batch) {
        try {
          this.#tx(w.ops);
          w.resolve();
        } catch (cause) {
          w.reject(new CofferError('storage_failure', 'storage write failed', { cause }));
        }
      }
    }
  }
}
