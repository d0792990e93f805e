import { CofferError, invalid } from '../../util/errors.js';
import { KeyedLock } from '../../util/keyed-lock.js';
import type { Logger } from '../../util/logger.js';
import { randomBase62 } from '../../util/random.js';
import type { Backend, LeaseContext, MountInfo } from '../framework.js';
import type { TokenStore } from '../tokens/store.js';
import { calculateTtl, goDuration } from '../tokens/ttl.js';
import { ExpiryQueue } from './expiry.js';
import { checkLeaseId, checkPrefix, dueKey, dueTime, tokenIndexKey, type LeaseRecord } from './record.js';
import type { LeaseStore } from './store.js';

/** Vault's cap on how many leases a server holds is none; ours is configurable (`max_leases`). */
export const DEFAULT_MAX_LEASES = 1_000_000;
const MAX_BACKOFF_MS = 10 * 60_000;
const MAX_ERROR_LENGTH = 500;

export interface IssuingMount {
  readonly info: MountInfo;
  readonly backend: Backend;
}

export interface ExpirationDeps {
  readonly store: LeaseStore;
  /** The mount (and its backend) with this uuid, if it is still mounted. */
  readonly mountByUuid: (uuid: string) => IssuingMount | undefined;
  readonly tokens: Pick<TokenStore, 'lookupById' | 'revokeTree'>;
  readonly logger: Logger;
  /** The HA seam: expiry runs only where this is true (the active node). */
  readonly isActive: () => boolean;
  readonly maxLeases?: number;
  readonly now?: () => number;
  /** Revocations in flight at once during a mass expiry. */
  readonly concurrency?: number;
}

export interface RegisterInput {
  readonly path: string;
  readonly mount: MountInfo;
  readonly namespace: string;
  readonly tokenId: string | null;
  /** When the owning token expires (it is watched then); null = never. */
  readonly tokenExpireAt: number | null;
  /** A hard end (a batch token's expiry): the lease never outlives it. */
  readonly notAfter?: number;
  readonly ttl: number;
  readonly maxTtl: number;
  readonly renewable: boolean;
  readonly internal: Record<string, unknown>;
  /** Register even past the cap (used only to keep a secret that could not be undone tracked). */
  readonly ignoreCap?: boolean;
}

export interface RevokeSummary { revoked: number; failed: string[] }

/**
 * The expiration manager: registers a lease for every secret issued with a TTL, renews within
 * the max TTL, and revokes through the issuing backend when a lease ends, is revoked, or its
 * token goes. Failed revocations stay in storage with their error and are retried with backoff.
 */
export class ExpirationManager {
  readonly #d: ExpirationDeps;
  readonly #queue: ExpiryQueue;
  readonly #lock = new KeyedLock();
  readonly #max: number;
  readonly #now: () => number;
  /** Registrations between the cap check and the index: the cap counts them too. */
  #reserved = 0;

  constructor(deps: ExpirationDeps) {
    this.#d = deps;
    this.#max = deps.maxLeases ?? DEFAULT_MAX_LEASES;
    this.#now = deps.now ?? Date.now;
    this.#queue = new ExpiryQueue({
      store: deps.store, logger: deps.logger, isActive: deps.isActive, now: this.#now, concurrency: deps.concurrency ?? 16,
      onLeaseDue: (id) => this.#expire(id),
      onTokenDue: (tokenId) => this.#checkToken(tokenId),
    });
  }

  /** Starts expiry and the background load (call on unseal, active node). Returns at once. */
  start(): void { this.#queue.start(); }
  stop(): Promise<void> { return this.#queue.stop(); }
  whenLoaded(): Promise<void> { return this.#queue.whenLoaded(); }
  get loaded(): boolean { return this.#queue.loaded; }
  /** Active leases known to the index (while loading: those loaded so far). */
  count(): number { return this.#queue.leaseCount + this.#reserved; }
  get maxLeases(): number { return this.#max; }

  async register(input: RegisterInput): Promise<{ record: LeaseRecord; warnings: string[] }> {
    if (!input.ignoreCap && this.count() >= this.#max) {
      throw new CofferError('rate_limited', `lease count quota exceeded: the server holds its maximum of ${this.#max} leases`);
    }
    const now = this.#now();
    const warnings: string[] = [];
    const requested = input.ttl > 0 ? input.ttl : input.mount.defaultLeaseTtl;
    const cap = input.maxTtl > 0 ? Math.min(input.maxTtl, input.mount.maxLeaseTtl) : input.mount.maxLeaseTtl;
    let ttl = Math.min(requested, cap);
    if (ttl < requested) warnings.push(`TTL of ${goDuration(requested)} exceeded the effective max_ttl of ${goDuration(cap)}; TTL value is capped accordingly`);
    if (input.notAfter !== undefined && now + ttl * 1000 > input.notAfter) ttl = Math.max(0, Math.floor((input.notAfter - now) / 1000));
    const record: LeaseRecord = {
      id: `${input.path}/${randomBase62(24)}`, path: input.path, mountUuid: input.mount.uuid, namespace: input.namespace,
      tokenId: input.tokenId, issueTime: now, expireTime: now + ttl * 1000, lastRenewal: null, ttl: requested,
      maxTtl: input.maxTtl, renewable: input.renewable, internal: input.internal, revocation: null,
    };
    this.#reserved++;
    try {
      await this.#d.store.create(record);
      this.#queue.scheduleLease(record.id, record.expireTime);
    } finally {
      this.#reserved--;
    }
    if (input.tokenId && input.tokenExpireAt !== null) this.#queue.watchToken(input.tokenId, input.tokenExpireAt);
    return { record, warnings };
  }

  async lookup(id: string): Promise<LeaseRecord | undefined> {
    return this.#d.store.read(checkLeaseId(id));
  }

  /** Direct children of a prefix, as LIST shows them (folders end in '/'). */
  list(prefix: string): Promise<string[]> {
    return this.#d.store.listChildren(checkPrefix(prefix));
  }

  /** Extends a lease by `increment` seconds (0: its original TTL), never past its max TTL. */
  async renew(rawId: string, increment: number): Promise<{ record: LeaseRecord; warnings: string[] }> {
    const id = checkLeaseId(rawId);
    return this.#lock.run(id, async () => {
      const rec = await this.#d.store.read(id);
      const now = this.#now();
      if (!rec) throw invalid('lease not found');
      if (rec.revocation || rec.expireTime <= now) throw invalid('lease expired');
      if (!rec.renewable) throw invalid('lease is not renewable');
      const issuer = this.#d.mountByUuid(rec.mountUuid);
      if (!issuer) throw invalid('lease not found: its mount is gone');
      const t = calculateTtl({
        increment, ttl: rec.ttl, period: 0, mountMaxTtl: issuer.info.maxLeaseTtl, mountDefaultTtl: issuer.info.defaultLeaseTtl,
        backendMaxTtl: rec.maxTtl, explicitMaxTtl: 0, issueTime: rec.issueTime, now,
      });
      await issuer.backend.secrets?.renew?.(this.#context(rec, t.expireAt, t.ttl));
      const next: LeaseRecord = { ...rec, expireTime: t.expireAt, lastRenewal: now };
      await this.#d.store.update(rec, next);
      this.#queue.scheduleLease(id, next.expireTime);
      return { record: next, warnings: t.warnings };
    });
  }

  /**
   * Revokes one lease through its backend. Unknown ids are not an error (as Vault). A backend
   * failure keeps the lease, records the error and schedules a retry; with `force` the lease is
   * dropped whatever the backend said.
   */
  async revoke(rawId: string, options: { force?: boolean } = {}): Promise<void> {
    const id = checkLeaseId(rawId);
    await this.#lock.run(id, async () => {
      const rec = await this.#d.store.read(id);
      if (!rec) {
        this.#queue.unscheduleLease(id);
        return;
      }
      await this.#revokeRecord(rec, options.force ?? false);
    });
  }

  /**
   * revoke-prefix / revoke-force: a prefix that is itself a lease id revokes that lease;
   * otherwise every lease below it. Returns what failed (their errors are on the leases).
   */
  async revokePrefix(rawPrefix: string, options: { force?: boolean } = {}): Promise<RevokeSummary> {
    const trimmed = rawPrefix.replace(/\/+$/, '');
    const ids: string[] = [];
    if (trimmed !== '' && !rawPrefix.endsWith('/') && (await this.#d.store.read(checkLeaseId(trimmed, 'prefix')))) ids.push(trimmed);
    else ids.push(...(await this.#d.store.idsUnder(checkPrefix(rawPrefix))));
    return this.#revokeAll(ids, options.force ?? false);
  }

  /** Every lease a token obtained: failures are kept and retried, never block the token's revocation. */
  async revokeByToken(tokenId: string): Promise<RevokeSummary> {
    this.#queue.unwatchToken(tokenId);
    return this.#revokeAll(await this.#d.store.idsForToken(tokenId), false);
  }

  async #revokeAll(ids: readonly string[], force: boolean): Promise<RevokeSummary> {
    const summary: RevokeSummary = { revoked: 0, failed: [] };
    for (const id of ids) {
      try {
        await this.revoke(id, { force });
        summary.revoked++;
      } catch (error) {
        if (!(error instanceof CofferError) || error.code !== 'invalid_request') throw error;
        summary.failed.push(id);
      }
    }
    return summary;
  }

  async #revokeRecord(rec: LeaseRecord, force: boolean): Promise<void> {
    const issuer = this.#d.mountByUuid(rec.mountUuid);
    try {
      // A lease whose mount is gone has nothing left to call (unmounting revokes first).
      await issuer?.backend.secrets?.revoke?.(this.#context(rec, rec.expireTime, Math.max(0, Math.floor((rec.expireTime - this.#now()) / 1000))));
    } catch (error) {
      const message = describe(error);
      if (!force) {
        await this.#recordFailure(rec, message);
        throw invalid(`failed to revoke lease ${rec.id}: ${message}`);
      }
      this.#d.logger.warn({ leaseId: rec.id, error: message }, 'revoke-force: backend revocation failed; lease dropped anyway');
    }
    await this.#d.store.remove(rec);
    this.#queue.unscheduleLease(rec.id);
  }

  async #recordFailure(rec: LeaseRecord, message: string): Promise<void> {
    const now = this.#now();
    const attempts = (rec.revocation?.attempts ?? 0) + 1;
    const backoff = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(attempts - 1, 20)) * (0.9 + Math.random() * 0.2);
    const next: LeaseRecord = { ...rec, revocation: { attempts, lastError: message, lastAttempt: now, nextAttempt: Math.round(now + backoff) } };
    await this.#d.store.update(rec, next);
    this.#queue.scheduleLease(rec.id, dueTime(next));
    this.#d.logger.warn({ leaseId: rec.id, attempts, error: message }, 'lease revocation failed; will retry');
  }

  /** The timer says a lease is due: re-read it (the index may be stale) and revoke it if so. */
  async #expire(id: string): Promise<void> {
    await this.#lock.run(id, async () => {
      const rec = await this.#d.store.read(id);
      if (!rec) return;
      const due = dueTime(rec);
      if (due > this.#now()) {
        this.#queue.scheduleLease(id, due);
        return;
      }
      await this.#revokeRecord(rec, false).catch((error: unknown) => {
        if (!(error instanceof CofferError && error.code === 'invalid_request')) throw error;
      });
    });
  }

  /** A watched token's TTL is up: if it is really gone, revoke it (its leases go with it). */
  async #checkToken(tokenId: string): Promise<void> {
    const entry = await this.#d.tokens.lookupById(tokenId, { tainted: true });
    if (entry) {
      if (entry.expireAt !== null) this.#queue.watchToken(tokenId, entry.expireAt);
      return;
    }
    if ((await this.#d.store.idsForToken(tokenId)).length === 0) return;
    await this.#d.tokens.revokeTree(tokenId);
    // The token may have been gone already (its listener ran before a crash): finish the job.
    await this.revokeByToken(tokenId);
  }

  /**
   * Repairs what a crash can leave: index entries without a lease, leases missing from an
   * index, and leases whose token is gone (revoked now).
   */
  async tidy(): Promise<{ leases: number; indexRepaired: number; indexRemoved: number; orphansRevoked: number }> {
    const result = { leases: 0, indexRepaired: 0, indexRemoved: 0, orphansRevoked: 0 };
    const orphans: string[] = [];
    for (const id of await this.#d.store.idsUnder('')) {
      const rec = await this.#d.store.read(id);
      if (!rec) continue;
      result.leases++;
      const due = dueKey(dueTime(rec), rec.id);
      if (!(await this.#d.store.hasKey(due))) { await this.#d.store.putIndex(due); result.indexRepaired++; }
      if (rec.tokenId) {
        if (!(await this.#d.store.hasKey(tokenIndexKey(rec.tokenId, rec.id)))) { await this.#d.store.putIndex(tokenIndexKey(rec.tokenId, rec.id)); result.indexRepaired++; }
        if (!(await this.#d.tokens.lookupById(rec.tokenId, { tainted: true }))) orphans.push(rec.id);
      }
      if (this.#queue.loaded) this.#queue.scheduleLease(rec.id, dueTime(rec));
    }
    for (const tokenId of await this.#d.store.tokensWithLeases()) {
      for (const leaseId of await this.#d.store.idsForToken(tokenId)) {
        const rec = await this.#d.store.read(leaseId);
        if (!rec || rec.tokenId !== tokenId) { await this.#d.store.dropTokenIndex(tokenId, leaseId); result.indexRemoved++; }
      }
    }
    await this.#d.store.walkDue(async (entries) => {
      for (const e of entries) {
        const rec = await this.#d.store.read(e.id);
        if (!rec || dueKey(dueTime(rec), rec.id) !== e.key) { await this.#d.store.deleteKey(e.key); result.indexRemoved++; }
      }
      return true;
    });
    const summary = await this.#revokeAll(orphans, false);
    result.orphansRevoked = summary.revoked;
    return result;
  }

  #context(rec: LeaseRecord, expireTime: number, ttl: number): LeaseContext {
    return { leaseId: rec.id, internal: rec.internal, issueTime: rec.issueTime, expireTime, ttl };
  }
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > MAX_ERROR_LENGTH ? `${message.slice(0, MAX_ERROR_LENGTH)}…` : message;
}
