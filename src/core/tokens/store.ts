import { createHmac, randomBytes } from 'node:crypto';
import type { Storage } from '../../storage/types.js';
import { getJson, putJson } from '../../storage/view.js';
import { CofferError } from '../../util/errors.js';
import { KeyedLock } from '../../util/keyed-lock.js';
import { randomBase62 } from '../../util/random.js';
import { TOKEN_PREFIX, tokenEntrySchema, type TokenEntry } from './entry.js';

const SALT_KEY = 'salt';

export interface CreateTokenInput {
  /** A caller-chosen token id (root only in the API); random when absent. */
  token?: string;
  parentId: string | null;
  policies: string[];
  meta?: Record<string, string>;
  displayName: string;
  numUses?: number;
  ttl: number;
  explicitMaxTtl?: number;
  period?: number;
  maxTtl?: number;
  renewable?: boolean;
  path: string;
  entityId?: string;
  role?: string;
  boundCidrs?: string[];
  namespace?: string;
}

/** Hook for things that live and die with a token (cubbyhole, leases): called on revocation. */
export type RevocationListener = (entry: TokenEntry) => Promise<void>;

/**
 * Service tokens, stored only under a salted hash (HMAC-SHA256 with a salt inside the
 * barrier), with an accessor index and a parent → child index for tree revocation.
 */
export class TokenStore {
  readonly #storage: Storage;
  #salt: Buffer | undefined;
  readonly #revocationListeners: RevocationListener[] = [];
  readonly #useLock = new KeyedLock();

  constructor(storage: Storage) {
    this.#storage = storage;
  }

  onRevoke(listener: RevocationListener): void {
    this.#revocationListeners.push(listener);
  }

  /** Loads (or, on first use, creates) the salt. Call after unseal. */
  async load(): Promise<void> {
    const existing = await this.#storage.get(SALT_KEY);
    if (existing) {
      this.#salt = Buffer.from(existing);
      return;
    }
    const salt = randomBytes(32);
    await this.#storage.put(SALT_KEY, salt);
    this.#salt = salt;
  }

  unload(): void {
    this.#salt?.fill(0);
    this.#salt = undefined;
  }

  /** The storage id of a token: a salted hash, so storage never holds the token. */
  hash(token: string, kind: 'id' | 'accessor' = 'id'): string {
    if (!this.#salt) throw new CofferError('sealed', 'Vault is sealed');
    return createHmac('sha256', this.#salt).update(`${kind}:${token}`).digest('hex');
  }

  async create(input: CreateTokenInput): Promise<{ token: string; entry: TokenEntry }> {
    const token = input.token ?? `${TOKEN_PREFIX.service}${randomBase62(24)}`;
    const id = this.hash(token);
    if (await this.#storage.get(`id/${id}`)) throw new CofferError('invalid_request', 'cannot create a token with a duplicate ID');
    const accessor = randomBase62(24);
    const now = Date.now();
    const entry: TokenEntry = {
      id,
      accessor,
      parentId: input.parentId,
      policies: input.policies,
      meta: input.meta ?? {},
      displayName: input.displayName,
      numUses: input.numUses ?? 0,
      creationTime: Math.floor(now / 1000),
      creationTtl: input.ttl,
      expireAt: input.ttl > 0 ? now + input.ttl * 1000 : null,
      explicitMaxTtl: input.explicitMaxTtl ?? 0,
      period: input.period ?? 0,
      maxTtl: input.maxTtl ?? 0,
      renewable: input.renewable ?? true,
      path: input.path,
      type: 'service',
      entityId: input.entityId ?? '',
      role: input.role ?? '',
      namespace: input.namespace ?? 'root',
      boundCidrs: input.boundCidrs ?? [],
    };
    const ops = [
      { kind: 'put' as const, key: `id/${id}`, value: Buffer.from(JSON.stringify(entry)) },
      { kind: 'put' as const, key: `accessor/${this.hash(accessor, 'accessor')}`, value: Buffer.from(JSON.stringify({ id })) },
    ];
    if (input.parentId) ops.push({ kind: 'put', key: `parent/${input.parentId}/${id}`, value: Buffer.from('{}') });
    await this.#storage.transaction(ops);
    return { token, entry };
  }

  /** The live entry for a token, or undefined if unknown, expired or used up. */
  async lookup(token: string): Promise<TokenEntry | undefined> {
    if (token.length === 0 || token.length > 1024) return undefined;
    return this.lookupById(this.hash(token));
  }

  async lookupById(id: string): Promise<TokenEntry | undefined> {
    const raw = await getJson(this.#storage, `id/${id}`);
    if (raw === undefined) return undefined;
    const entry = tokenEntrySchema.parse(raw);
    if (entry.expireAt !== null && entry.expireAt <= Date.now()) return undefined;
    return entry;
  }

  async lookupByAccessor(accessor: string): Promise<TokenEntry | undefined> {
    const ref = await getJson(this.#storage, `accessor/${this.hash(accessor, 'accessor')}`);
    if (!ref || typeof ref !== 'object' || typeof (ref as { id?: unknown }).id !== 'string') return undefined;
    return this.lookupById((ref as { id: string }).id);
  }

  async save(entry: TokenEntry): Promise<void> {
    await putJson(this.#storage, `id/${entry.id}`, entry);
  }

  /**
   * Spends one use of a limited-use token. Returns false when none was left; the last use
   * revokes the token (after the request it authorizes, as in Vault).
   */
  async use(entry: TokenEntry): Promise<{ ok: boolean; revokeAfter: boolean }> {
    if (entry.numUses === 0) return { ok: true, revokeAfter: false };
    // Read-check-write under a per-token lock: concurrent requests never spend the same use twice.
    return this.#useLock.run(entry.id, async () => {
      const current = await this.lookupById(entry.id);
      if (!current || current.numUses <= 0) return { ok: false, revokeAfter: false };
      if (current.numUses === 1) {
        await this.save({ ...current, numUses: -1 });
        return { ok: true, revokeAfter: true };
      }
      await this.save({ ...current, numUses: current.numUses - 1 });
      return { ok: true, revokeAfter: false };
    });
  }

  /** Revokes a token and, depth first, every descendant. */
  async revokeTree(id: string): Promise<void> {
    for (const child of await this.#storage.list(`parent/${id}/`)) {
      await this.revokeTree(child.replace(/\/$/, ''));
    }
    await this.#revokeOne(id);
  }

  /** Revokes only this token; its children become orphans. */
  async revokeOrphan(id: string): Promise<void> {
    for (const child of await this.#storage.list(`parent/${id}/`)) {
      const childId = child.replace(/\/$/, '');
      const raw = await getJson(this.#storage, `id/${childId}`);
      if (raw !== undefined) await this.save({ ...tokenEntrySchema.parse(raw), parentId: null });
      await this.#storage.delete(`parent/${id}/${childId}`);
    }
    await this.#revokeOne(id);
  }

  async listAccessors(): Promise<string[]> {
    const out: string[] = [];
    for (const key of await this.#storage.list('id/')) {
      const raw = await getJson(this.#storage, `id/${key}`);
      if (raw !== undefined) out.push(tokenEntrySchema.parse(raw).accessor);
    }
    return out;
  }

  async #revokeOne(id: string): Promise<void> {
    const raw = await getJson(this.#storage, `id/${id}`);
    if (raw === undefined) return;
    const entry = tokenEntrySchema.parse(raw);
    for (const listener of this.#revocationListeners) await listener(entry);
    const ops = [
      { kind: 'delete' as const, key: `id/${id}` },
      { kind: 'delete' as const, key: `accessor/${this.hash(entry.accessor, 'accessor')}` },
    ];
    if (entry.parentId) ops.push({ kind: 'delete', key: `parent/${entry.parentId}/${id}` });
    await this.#storage.transaction(ops);
  }
}
