import { createHmac } from 'node:crypto';

export const HMAC_PREFIX = 'hmac-sha256:';
const MAX_SALT = 64;

/**
 * HMAC-SHA256 with one device's salt, written as Vault does: `hmac-sha256:<hex>`. Runs for
 * every distinct string of every audited request (createHmac measured faster here than copying
 * pre-keyed hash states). The salt is kept as a private copy and overwritten by `zero()`.
 */
export class Salter {
  readonly #key: Buffer;
  /**
   * The hash of the empty string, which nearly every entry carries (a KV v2 read's
   * `deletion_time`, an unset field): computed once. Precomputing it tells nothing by timing,
   * since the empty string is no secret.
   */
  readonly #empty: string;

  constructor(salt: Uint8Array) {
    if (salt.length === 0 || salt.length > MAX_SALT) throw new TypeError('audit salt must be 1..64 bytes');
    this.#key = Buffer.from(salt);
    this.#empty = this.#compute('');
  }

  hmac(value: string): string {
    return value === '' ? this.#empty : this.#compute(value);
  }

  #compute(value: string): string {
    return HMAC_PREFIX + createHmac('sha256', this.#key).update(value).digest('hex');
  }

  zero(): void {
    this.#key.fill(0);
  }
}

/** A hash function for one entry (or one request's pair of entries): each distinct value is hashed once. */
export type ValueHasher = (value: string) => string;

export function cachedHasher(salter: Salter, cache: Map<string, string>): ValueHasher {
  return (value) => {
    let h = cache.get(value);
    if (h === undefined) {
      h = salter.hmac(value);
      cache.set(value, h);
    }
    return h;
  };
}

/** With log_raw every value is written as is. */
export const rawHasher: ValueHasher = (value) => value;

/**
 * A copy of `value` with every string replaced by its hash, recursively; keys, numbers,
 * booleans and nulls stay (as Vault's HashStructure). Other values (functions, bigints,
 * buffers) never come out of JSON request bodies; they are replaced by null rather than risk
 * writing them raw.
 */
export function hashStructure(value: unknown, hash: ValueHasher, depth = 0): unknown {
  if (typeof value === 'string') return hash(value);
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (depth > 64) return null;
  if (Array.isArray(value)) return value.map((v) => hashStructure(v, hash, depth + 1));
  if (typeof value === 'object') {
    if (value instanceof Date) return hash(value.toISOString());
    // Bytes would otherwise be walked as a list of numbers, which are written as they are.
    if (ArrayBuffer.isView(value)) return hash(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64'));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = hashStructure(v, hash, depth + 1);
    return out;
  }
  return null;
}

/**
 * Per device, the hashes of recent callers' token and accessor: the same token is hashed for
 * every request it makes. Keyed by the token id (the token store's salted hash), never the token.
 */
export class CallerHashCache {
  static readonly MAX = 10_000;
  readonly #map = new Map<string, readonly [string, string | undefined]>();

  /** Puts a known caller's hashes into one request's memo. */
  seed(caller: { readonly tokenId: string; readonly token: string; readonly accessor: string }, memo: Map<string, string>): void {
    const known = this.#map.get(caller.tokenId);
    if (!known) return;
    memo.set(caller.token, known[0]);
    if (known[1] !== undefined) memo.set(caller.accessor, known[1]);
  }

  /** Keeps what a request's memo computed for its caller. */
  remember(caller: { readonly tokenId: string; readonly token: string; readonly accessor: string }, memo: Map<string, string>): void {
    if (this.#map.has(caller.tokenId)) return;
    const token = memo.get(caller.token);
    if (token === undefined) return;
    if (this.#map.size >= CallerHashCache.MAX) this.#map.delete(this.#map.keys().next().value!);
    this.#map.set(caller.tokenId, [token, caller.accessor === '' ? undefined : memo.get(caller.accessor)]);
  }
}
