import { randomBytes } from 'node:crypto';
import type { Storage, StorageOp } from '../../storage/types.js';
import { frozenJson, getDecoded, getJson, jsonOp } from '../../storage/view.js';
import { CofferError, invalid } from '../../util/errors.js';
import { KeyedLock } from '../../util/keyed-lock.js';
import { randomBase62 } from '../../util/random.js';
import { MAX_BATCH_TOKEN_LENGTH, openBatch, sealBatch, type BatchFields } from './batch.js';
import { ipAllowed } from './cidr.js';
import { TokenHasher } from './hasher.js';
import { TOKEN_PREFIX, tokenEntrySchema, type TokenEntry } from './entry.js';

const SALT_KEY = 'salt';
const BATCH_KEY = 'batch-key';
const MAX_SERVICE_TOKEN_LENGTH = 1024;
/** Parent chains deeper than this are treated as broken (a cycle), never walked forever. */
const MAX_DEPTH = 256;
/** Entries are parsed once per write, not once per request (see Barrier.getDecoded). */
const ENTRY_DECODER = frozenJson((raw): TokenEntry => tokenEntrySchema.parse(raw));

export interface CreateTokenInput {
  /** A caller-chosen token id (root/sudo only in the API); random when absent. Service tokens only. */
  token?: string;
  /** 'service' (stored, `cfs.`) unless 'batch' (encrypted, never stored, `cfb.`). */
  type?: 'service' | 'batch';
  parentId: string | null;
  policies: string[];
  meta?: Record<string, string>;
  displayName: string;
  numUses?: number;
  /** Seconds; 0 = never expires (root tokens only). */
  ttl: number;
  /** Unix ms of issue (defaults to now); max TTLs count from it. */
  issueTime?: number;
  /** Unix ms it expires, when a cap made it other than issue time + ttl. Service tokens only. */
  expireAt?: number;
  explicitMaxTtl?: number;
  period?: number;
  /** The creating mount's/role's cap, re-applied on renewal; 0 = the token store mount's max. */
  maxTtl?: number;
  renewable?: boolean;
  path: string;
  entityId?: string;
  role?: string;
  boundCidrs?: string[];
  namespace?: string;
}

export interface LookupOptions {
  /** The caller's address: a token bound to CIDRs is refused from anywhere else. */
  readonly clientIp?: string;
  /** Also return an entry whose last use is in flight (num_uses -1), as Vault's lookup does. */
  readonly tainted?: boolean;
}

export interface TidyResult { accessors: number; parentIndex: number; revoked: number }

/** Hook for things that live and die with a token (cubbyhole, leases): called on revocation. */
export type RevocationListener = (entry: TokenEntry) => Promise<void>;

/**
 * Service tokens, stored only under a salted hash (HMAC-SHA256 with a salt inside the
 * barrier), with an accessor index and a parent → child index for tree revocation; batch
 * tokens, encrypted under a key inside the barrier and never stored.
 *
 * Every change to a stored entry happens under that entry's lock after a fresh read, so a
 * use, a renewal and a revocation of the same token never undo one another.
 */
export class TokenStore {
  readonly #storage: Storage;
  #hasher: TokenHasher | undefined;
  #batchKey: Buffer | undefined;
  readonly #revocationListeners: RevocationListener[] = [];
  readonly #lock = new KeyedLock();

  constructor(storage: Storage) {
    this.#storage = storage;
  }

  /** Listeners must not call back into the store for the same token (its lock is held). */
  onRevoke(listener: RevocationListener): void {
    this.#revocationListeners.push(listener);
  }

  /** Loads (or, on first use, creates) the salt and the batch token key. Call after unseal. */
  async load(): Promise<void> {
    this.#hasher = new TokenHasher(await this.#loadSecret(SALT_KEY));
    this.#batchKey = await this.#loadSecret(BATCH_KEY);
  }

  unload(): void {
    this.#hasher?.zero();
    this.#batchKey?.fill(0);
    this.#hasher = undefined;
    this.#batchKey = undefined;
  }

  /** The storage id of a token: a salted hash, so storage never holds the token. */
  hash(token: string, kind: 'id' | 'accessor' = 'id'): string {
    if (!this.#hasher) throw new CofferError('sealed', 'Vault is sealed');
    return this.#hasher.hash(token, kind);
  }

  async create(input: CreateTokenInput): Promise<{ token: string; entry: TokenEntry }> {
    const parentId = input.parentId;
    if (parentId !== null && !(await this.lookupById(parentId))) throw invalid('parent token not found');
    const now = input.issueTime ?? Date.now();
    const base = {
      parentId: input.parentId, policies: input.policies, meta: input.meta ?? {}, displayName: input.displayName,
      issueTime: now, creationTtl: input.ttl, path: input.path, entityId: input.entityId ?? '', role: input.role ?? '',
      namespace: input.namespace ?? 'root', boundCidrs: input.boundCidrs ?? [],
    };
    const expireAt = input.ttl > 0 ? input.expireAt ?? now + input.ttl * 1000 : null;
    if (input.type === 'batch') {
      if (input.token !== undefined) throw invalid('batch tokens cannot have a custom ID');
      if (expireAt === null) throw invalid('batch tokens must have a TTL');
      const token = sealBatch(this.#key(this.#batchKey), base);
      if (token.length > MAX_BATCH_TOKEN_LENGTH) throw invalid('batch token would be too large: use fewer policies or less metadata');
      return { token, entry: this.#batchEntry(token, base) };
    }

    const token = input.token ?? `${TOKEN_PREFIX.service}${randomBase62(24)}`;
    const id = this.hash(token);
    const accessor = randomBase62(24);
    const entry: TokenEntry = {
      ...base, id, accessor, type: 'service', numUses: input.numUses ?? 0, creationTime: Math.floor(now / 1000), expireAt,
      explicitMaxTtl: input.explicitMaxTtl ?? 0, period: input.period ?? 0, maxTtl: input.maxTtl ?? 0,
      renewable: input.renewable ?? true, lastRenewal: null,
    };
    const ops: StorageOp[] = [jsonOp(`id/${id}`, entry), jsonOp(`accessor/${this.hash(accessor, 'accessor')}`, { id, accessor })];
    if (parentId !== null) ops.push(jsonOp(`parent/${parentId}/${id}`, {}));
    const write = (): Promise<void> => this.#lock.run(id, async () => {
      if (await this.#storage.get(`id/${id}`)) throw invalid('cannot create a token with a duplicate ID');
      await this.#storage.transaction(ops);
    });
    // Under the parent's lock: a revocation marks the parent first, under the same lock, so a
    // child is either written before the revocation lists the children or refused.
    if (parentId === null) await write();
    else await this.#lock.run(parentId, async () => {
      if (!(await this.lookupById(parentId))) throw invalid('parent token not found');
      await write();
    });
    return { token, entry };
  }

  /** The live entry for a token, or undefined if unknown, expired, used up, revoked or out of its CIDRs. */
  async lookup(token: string, options: LookupOptions = {}): Promise<TokenEntry | undefined> {
    if (token.length === 0) return undefined;
    let entry: TokenEntry | undefined;
    if (token.startsWith(TOKEN_PREFIX.batch)) entry = await this.#lookupBatch(token);
    else if (token.length <= MAX_SERVICE_TOKEN_LENGTH) entry = await this.lookupById(this.hash(token), options);
    if (!entry) return undefined;
    if (options.clientIp !== undefined && !ipAllowed(entry.boundCidrs, options.clientIp)) return undefined;
    return entry;
  }

  /** A live stored entry: not expired, not used up, and every ancestor still live. */
  async lookupById(id: string, options: Pick<LookupOptions, 'tainted'> = {}): Promise<TokenEntry | undefined> {
    const entry = await this.#read(id);
    if (!entry || !isLive(entry, options.tainted ?? false, Date.now())) return undefined;
    return (await this.#ancestorsLive(entry.parentId)) ? entry : undefined;
  }

  async lookupByAccessor(accessor: string, options: Pick<LookupOptions, 'tainted'> = {}): Promise<TokenEntry | undefined> {
    const id = await this.#idForAccessor(accessor);
    return id === undefined ? undefined : this.lookupById(id, options);
  }

  /**
   * Changes a live entry under its lock, from a fresh read (renewal and the like). Returns
   * undefined when the token is gone. `fn` must not touch the store for the same token.
   */
  async update(id: string, fn: (current: TokenEntry) => TokenEntry | Promise<TokenEntry>): Promise<TokenEntry | undefined> {
    return this.#lock.run(id, async () => {
      const current = await this.lookupById(id);
      if (!current) return undefined;
      const next = await fn(current);
      if (next.id !== current.id || next.accessor !== current.accessor || next.type !== 'service') throw new TypeError('update may not change a token\'s id, accessor or type');
      await this.#storage.transaction([jsonOp(`id/${id}`, next)]);
      return next;
    });
  }

  /**
   * Spends one use of a limited-use token. Returns false when none was left; the last use
   * revokes the token (after the request it authorizes, as in Vault).
   */
  async use(entry: TokenEntry): Promise<{ ok: boolean; revokeAfter: boolean }> {
    if (entry.numUses === 0) return { ok: true, revokeAfter: false };
    // Read-check-write under a per-token lock: concurrent requests never spend the same use twice.
    return this.#lock.run(entry.id, async () => {
      const current = await this.lookupById(entry.id);
      if (!current || current.numUses <= 0) return { ok: false, revokeAfter: false };
      const last = current.numUses === 1;
      await this.#storage.transaction([jsonOp(`id/${entry.id}`, { ...current, numUses: last ? -1 : current.numUses - 1 })]);
      return { ok: true, revokeAfter: last };
    });
  }

  /** Revokes a token and, depth first, every descendant. The token is refused from the first step. */
  async revokeTree(id: string): Promise<void> {
    await this.#markPending(id);
    const stack = [id];
    const seen = new Set<string>();
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      seen.add(top);
      const children: string[] = [];
      for (const key of await this.#storage.list(`parent/${top}/`)) {
        const child = key.replace(/\/$/, '');
        // A cycle can only come from tampering or a bug; cut it rather than loop.
        if (seen.has(child)) await this.#storage.delete(`parent/${top}/${child}`);
        else children.push(child);
      }
      if (children.length === 0) {
        await this.#revokeOne(top);
        stack.pop();
      } else {
        stack.push(...children);
      }
    }
  }

  /** Revokes only this token; its children become orphans. */
  async revokeOrphan(id: string): Promise<void> {
    await this.#markPending(id);
    for (const key of await this.#storage.list(`parent/${id}/`)) {
      const childId = key.replace(/\/$/, '');
      await this.#orphan(id, childId);
    }
    await this.#revokeOne(id);
  }

  /** Accessors of every stored token (LIST auth/token/accessors). */
  async listAccessors(): Promise<string[]> {
    const out: string[] = [];
    for (const key of await this.#storage.list('accessor/')) {
      const ref = await getJson(this.#storage, `accessor/${key}`);
      const accessor = isRecord(ref) && typeof ref['accessor'] === 'string' ? ref['accessor'] : undefined;
      if (accessor) out.push(accessor);
      else if (isRecord(ref) && typeof ref['id'] === 'string') {
        const entry = await this.#read(ref['id']);
        if (entry) out.push(entry.accessor);
      }
    }
    return out;
  }

  /**
   * Revokes (with their trees) every stored token past its TTL. Lookups already refuse them;
   * this removes them and fires the revocation listeners. Meant for a timer; a full scan until
   * the lease manager brings a time-ordered index. Returns how many were revoked.
   */
  async sweepExpired(now = Date.now()): Promise<number> {
    let revoked = 0;
    for (const key of await this.#storage.list('id/')) {
      const entry = await this.#read(key);
      if (entry && entry.expireAt !== null && entry.expireAt <= now) {
        await this.revokeTree(entry.id);
        revoked++;
      }
    }
    return revoked;
  }

  /**
   * Repairs what a crash can leave behind: accessor and parent index entries without a token,
   * tokens stuck with their last use in flight, expired tokens, and children whose parent is
   * gone. Those are revoked, not orphaned as Vault's tidy does: a parent only vanishes before
   * its children when its revocation was cut short, so they were meant to die with it.
   */
  async tidy(): Promise<TidyResult> {
    const result: TidyResult = { accessors: 0, parentIndex: 0, revoked: 0 };
    for (const key of await this.#storage.list('accessor/')) {
      const ref = await getJson(this.#storage, `accessor/${key}`);
      const id = isRecord(ref) && typeof ref['id'] === 'string' ? ref['id'] : undefined;
      if (id === undefined || !(await this.#read(id))) {
        await this.#storage.delete(`accessor/${key}`);
        result.accessors++;
      }
    }
    for (const folder of await this.#storage.list('parent/')) {
      const parentId = folder.replace(/\/$/, '');
      const parentExists = (await this.#read(parentId)) !== undefined;
      for (const key of await this.#storage.list(`parent/${parentId}/`)) {
        const childId = key.replace(/\/$/, '');
        const child = await this.#read(childId);
        if (child && !parentExists) {
          await this.revokeTree(childId);
          await this.#storage.delete(`parent/${parentId}/${childId}`);
          result.revoked++;
        } else if (!child || child.parentId !== parentId) {
          await this.#storage.delete(`parent/${parentId}/${childId}`);
          result.parentIndex++;
        }
      }
    }
    for (const key of await this.#storage.list('id/')) {
      const entry = await this.#read(key);
      if (entry && entry.numUses < 0) {
        await this.revokeTree(entry.id);
        result.revoked++;
      }
    }
    result.revoked += await this.sweepExpired();
    return result;
  }

  async #loadSecret(key: string): Promise<Buffer> {
    const existing = await this.#storage.get(key);
    if (existing) return Buffer.from(existing);
    const secret = randomBytes(32);
    await this.#storage.put(key, secret);
    return secret;
  }

  #key(key: Buffer | undefined): Buffer {
    if (!key) throw new CofferError('sealed', 'Vault is sealed');
    return key;
  }

  async #lookupBatch(token: string): Promise<TokenEntry | undefined> {
    const fields = openBatch(this.#key(this.#batchKey), token);
    if (!fields) return undefined;
    const entry = this.#batchEntry(token, fields);
    if (!isLive(entry, false, Date.now())) return undefined;
    // A batch token dies with its parent: it cannot be revoked on its own.
    return (await this.#ancestorsLive(entry.parentId)) ? entry : undefined;
  }

  #batchEntry(token: string, f: BatchFields): TokenEntry {
    return {
      ...f, id: this.hash(token), accessor: '', type: 'batch', numUses: 0, creationTime: Math.floor(f.issueTime / 1000),
      expireAt: f.issueTime + f.creationTtl * 1000, explicitMaxTtl: 0, period: 0, maxTtl: 0, renewable: false, lastRenewal: null,
    };
  }

  async #read(id: string): Promise<TokenEntry | undefined> {
    if (!/^[0-9a-f]{64}$/.test(id)) return undefined;
    return getDecoded(this.#storage, `id/${id}`, ENTRY_DECODER);
  }

  /** Every ancestor exists and has not expired: a child never outlives its parent's TTL. */
  async #ancestorsLive(parentId: string | null): Promise<boolean> {
    const now = Date.now();
    let next = parentId;
    for (let depth = 0; next !== null; depth++) {
      if (depth >= MAX_DEPTH) return false;
      const parent = await this.#read(next);
      // A parent whose last use is in flight is still live until that request ends.
      if (!parent || !isLive(parent, true, now)) return false;
      next = parent.parentId;
    }
    return true;
  }

  async #idForAccessor(accessor: string): Promise<string | undefined> {
    if (accessor.length === 0 || accessor.length > MAX_SERVICE_TOKEN_LENGTH) return undefined;
    const ref = await getJson(this.#storage, `accessor/${this.hash(accessor, 'accessor')}`);
    return isRecord(ref) && typeof ref['id'] === 'string' ? ref['id'] : undefined;
  }

  async #markPending(id: string): Promise<void> {
    await this.#lock.run(id, async () => {
      const entry = await this.#read(id);
      if (entry && entry.numUses !== -1) await this.#storage.transaction([jsonOp(`id/${id}`, { ...entry, numUses: -1 })]);
    });
  }

  async #orphan(parentId: string, childId: string): Promise<void> {
    await this.#lock.run(childId, async () => {
      const child = await this.#read(childId);
      const ops: StorageOp[] = [{ kind: 'delete', key: `parent/${parentId}/${childId}` }];
      if (child && child.parentId === parentId) ops.push(jsonOp(`id/${childId}`, { ...child, parentId: null }));
      await this.#storage.transaction(ops);
    });
  }

  async #revokeOne(id: string): Promise<void> {
    await this.#lock.run(id, async () => {
      const entry = await this.#read(id);
      if (!entry) return;
      for (const listener of this.#revocationListeners) await listener(entry);
      const ops: StorageOp[] = [
        { kind: 'delete', key: `id/${id}` },
        { kind: 'delete', key: `accessor/${this.hash(entry.accessor, 'accessor')}` },
      ];
      if (entry.parentId) ops.push({ kind: 'delete', key: `parent/${entry.parentId}/${id}` });
      await this.#storage.transaction(ops);
    });
  }
}

function isLive(entry: TokenEntry, tainted: boolean, now: number): boolean {
  if (entry.expireAt !== null && entry.expireAt <= now) return false;
  return tainted || entry.numUses >= 0;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
