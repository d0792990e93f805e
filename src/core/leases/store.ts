import type { Storage, StorageOp } from '../../storage/types.js';
import { getJson, jsonOp } from '../../storage/view.js';
import {
  decodeId, dueKey, dueTime, leaseRecordSchema, parseDueEntry, recordKey, tokenIndexKey, type LeaseRecord,
} from './record.js';

const EMPTY = new Uint8Array([123, 125]); // "{}": index entries carry nothing but their key

/**
 * The lease records and their two indexes, in a barrier view of their own (`sys/expire/`):
 * `id/<lease>` the record, `token/<token id>/<lease>` for revoking by token, `due/...` in time
 * order for loading. A record and its index entries always change in one transaction.
 */
export class LeaseStore {
  readonly #s: Storage;

  constructor(storage: Storage) {
    this.#s = storage;
  }

  async read(id: string): Promise<LeaseRecord | undefined> {
    const raw = await getJson(this.#s, recordKey(id));
    return raw === undefined ? undefined : leaseRecordSchema.parse(raw);
  }

  create(rec: LeaseRecord): Promise<void> {
    const ops: StorageOp[] = [jsonOp(recordKey(rec.id), rec), put(dueKey(dueTime(rec), rec.id))];
    if (rec.tokenId) ops.push(put(tokenIndexKey(rec.tokenId, rec.id)));
    return this.#s.transaction(ops);
  }

  /** Writes `next` over `prev` (same id and token), moving its due entry if the time changed. */
  update(prev: LeaseRecord, next: LeaseRecord): Promise<void> {
    const ops: StorageOp[] = [jsonOp(recordKey(next.id), next)];
    const before = dueKey(dueTime(prev), prev.id);
    const after = dueKey(dueTime(next), next.id);
    if (before !== after) ops.push({ kind: 'delete', key: before }, put(after));
    return this.#s.transaction(ops);
  }

  remove(rec: LeaseRecord): Promise<void> {
    const ops: StorageOp[] = [{ kind: 'delete', key: recordKey(rec.id) }, { kind: 'delete', key: dueKey(dueTime(rec), rec.id) }];
    if (rec.tokenId) ops.push({ kind: 'delete', key: tokenIndexKey(rec.tokenId, rec.id) });
    return this.#s.transaction(ops);
  }

  /** Direct children of `id/<prefix>` (LIST sys/leases/lookup/<prefix>). */
  listChildren(prefix: string): Promise<string[]> {
    return this.#s.list(`id/${prefix}`);
  }

  /** Every lease id under a prefix ('' or ending in '/'), depth first. */
  async idsUnder(prefix: string): Promise<string[]> {
    const out: string[] = [];
    const walk = async (p: string): Promise<void> => {
      for (const child of await this.#s.list(`id/${p}`)) {
        if (child.endsWith('/')) await walk(p + child);
        else out.push(p + child);
      }
    };
    await walk(prefix);
    return out;
  }

  async idsForToken(tokenId: string): Promise<string[]> {
    return (await this.#s.list(`token/${tokenId}/`)).filter((k) => !k.endsWith('/')).map(decodeId);
  }

  /** Token ids that hold leases (from the index). */
  async tokensWithLeases(): Promise<string[]> {
    return (await this.#s.list('token/')).filter((k) => k.endsWith('/')).map((k) => k.slice(0, -1));
  }

  dropTokenIndex(tokenId: string, leaseId: string): Promise<void> {
    return this.#s.delete(tokenIndexKey(tokenId, leaseId));
  }

  /**
   * Walks the due index in time order, one millisecond-folder at a time: `visit` gets that
   * folder's entries. Returns early when `visit` returns false.
   */
  async walkDue(visit: (entries: { time: number; id: string; key: string }[]) => Promise<boolean>): Promise<void> {
    const folders = async (prefix: string): Promise<string[]> => (await this.#s.list(prefix)).filter((k) => k.endsWith('/')).map((k) => prefix + k);
    for (const hour of await folders('due/')) {
      for (const second of await folders(hour)) {
        for (const ms of await folders(second)) {
          const entries: { time: number; id: string; key: string }[] = [];
          for (const name of await this.#s.list(ms)) {
            const parsed = name.endsWith('/') ? undefined : parseDueEntry(name);
            if (parsed) entries.push({ ...parsed, key: ms + name });
          }
          if (!(await visit(entries))) return;
        }
      }
    }
  }

  hasKey(key: string): Promise<boolean> {
    return this.#s.get(key).then((v) => v !== undefined);
  }

  putIndex(key: string): Promise<void> {
    return this.#s.put(key, EMPTY);
  }

  deleteKey(key: string): Promise<void> {
    return this.#s.delete(key);
  }
}

const put = (key: string): StorageOp => ({ kind: 'put', key, value: EMPTY });
