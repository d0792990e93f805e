import { CofferError } from '../util/errors.js';
import { assertKey, assertPrefix, type Decoder, type Storage, type StorageOp } from '../storage/types.js';
import { open, recordTerm, seal } from './aead.js';
import { DEFAULT_ROTATION_THRESHOLD, Keyring } from './keyring.js';
import { ReadCache } from './read-cache.js';

/** Raw storage keys the barrier and the seal own; nothing above the barrier may write them. */
export const KEYRING_PATH = 'core/keyring';
export const RESERVED_PATHS: ReadonlySet<string> = new Set([KEYRING_PATH, 'core/root-key', 'core/seal-config', 'core/share-check']);

export interface KeyStatus {
  term: number;
  installTime: Date;
  encryptions: number;
}

type State = { readonly kind: 'sealed' } | { readonly kind: 'unsealed'; readonly rootKey: Buffer; readonly keyring: Keyring };

/**
 * The steel door: a Storage whose values are encrypted with the keyring's active term before
 * they reach the (untrusted) storage below, and authenticated with their path on the way back.
 */
export class Barrier implements Storage {
  readonly #below: Storage;
  readonly #rotationThreshold: number;
  #state: State = { kind: 'sealed' };
  /** Serializes keyring writes (rotation, count reservations). */
  #keyringLock: Promise<unknown> = Promise.resolve();

  readonly #cache: ReadCache;

  /** `cacheEntries` bounds the decrypted-record cache (0 turns it off; default 10,000; Vault's is 131,072). */
  constructor(below: Storage, options: { rotationThreshold?: number; cacheEntries?: number } = {}) {
    this.#below = below;
    this.#cache = new ReadCache(options.cacheEntries ?? 10_000);
    this.#rotationThreshold = options.rotationThreshold ?? DEFAULT_ROTATION_THRESHOLD;
    if (!Number.isInteger(this.#rotationThreshold) || this.#rotationThreshold < 1) throw new TypeError('rotationThreshold must be a positive integer');
  }

  get sealed(): boolean { return this.#state.kind === 'sealed'; }

  /** Creates the first keyring under `rootKey`. Storage must not have one yet. */
  async initialize(rootKey: Uint8Array): Promise<void> {
    if (await this.#below.get(KEYRING_PATH)) throw new CofferError('already_initialized', 'barrier is already initialized');
    const keyring = Keyring.create();
    const root = Buffer.from(rootKey);
    await this.#storeKeyring(root, keyring);
    this.#state = { kind: 'unsealed', rootKey: root, keyring };
  }

  /** Opens the keyring with `rootKey`; a wrong key or a tampered keyring is an error. */
  async unseal(rootKey: Uint8Array): Promise<void> {
    const stored = await this.#below.get(KEYRING_PATH);
    if (!stored) throw new CofferError('uninitialized', 'barrier has no keyring');
    const root = Buffer.from(rootKey);
    const keyring = Keyring.decode(open(root, KEYRING_PATH, stored));
    this.#state = { kind: 'unsealed', rootKey: root, keyring };
  }

  /** Stores the exact encryption counts (a clean shutdown), so a restart reports them exactly. */
  async checkpoint(): Promise<void> {
    if (this.#state.kind !== 'unsealed') return;
    await this.#withKeyring((root, keyring) => this.#storeKeyring(root, keyring, true));
  }

  /** Forgets and overwrites every key held in memory. */
  seal(): void {
    this.#cache.clear();
    if (this.#state.kind === 'unsealed') {
      this.#state.keyring.zero();
      this.#state.rootKey.fill(0);
    }
    this.#state = { kind: 'sealed' };
  }

  async rotate(): Promise<KeyStatus> {
    return this.#withKeyring(async (root, keyring) => {
      keyring.rotate();
      await this.#storeKeyring(root, keyring);
      return this.keyStatus();
    });
  }

  keyStatus(): KeyStatus {
    const { active } = this.#unsealed().keyring;
    return { term: active.term, installTime: active.installTime, encryptions: active.encryptions };
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    assertKey(key);
    const { keyring } = this.#unsealed();
    const cached = this.#cache.get(key);
    if (cached) return cached;
    const epoch = this.#writeEpoch;
    const record = await this.#below.get(key);
    if (record === undefined) return undefined;
    const term = recordTerm(record, key);
    const k = keyring.term(term);
    if (!k) throw new CofferError('tampered', `stored record at ${key} names an unknown key term`);
    const value = open(k.key, key, record);
    // Only cache if no write started or ended meanwhile: a write invalidates, and so must win.
    if (epoch === this.#writeEpoch && this.#writesInFlight === 0) this.#cache.set(key, value);
    return value;
  }

  /** As get, decoded; a cached record is decoded once and its decoded object shared until the key is written. */
  async getDecoded<T>(key: string, decoder: Decoder<T>): Promise<T | undefined> {
    assertKey(key);
    this.#unsealed();
    const hit = this.#cache.getDecoded(key, decoder);
    if (hit !== undefined) return hit;
    const bytes = await this.get(key);
    if (bytes === undefined) return undefined;
    // get() cached the bytes unless a write raced it; then decode this copy and keep nothing.
    return this.#cache.getDecoded(key, decoder) ?? decoder.decode(bytes);
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    this.#assertWritable(key);
    const record = await this.#encrypt(key, value);
    await this.#writing([key], () => this.#below.put(key, record));
  }

  async delete(key: string): Promise<void> {
    this.#assertWritable(key);
    this.#unsealed();
    await this.#writing([key], () => this.#below.delete(key));
  }

  async list(prefix: string): Promise<string[]> {
    assertPrefix(prefix);
    this.#unsealed();
    return this.#below.list(prefix);
  }

  async transaction(ops: readonly StorageOp[]): Promise<void> {
    const sealedOps: StorageOp[] = [];
    for (const op of ops) {
      this.#assertWritable(op.key);
      sealedOps.push(op.kind === 'put' ? { kind: 'put', key: op.key, value: await this.#encrypt(op.key, op.value) } : op);
    }
    await this.#writing(ops.map((op) => op.key), () => this.#below.transaction(sealedOps));
  }

  /**
   * Keeps the cache out of the way of writes: entries are dropped before and after each write,
   * and a read that overlapped any write (epoch moved, or writes in flight) is not cached.
   */
  #writeEpoch = 0;
  #writesInFlight = 0;

  async #writing(keys: readonly string[], write: () => Promise<void>): Promise<void> {
    this.#writeEpoch++;
    this.#writesInFlight++;
    for (const k of keys) this.#cache.delete(k);
    try {
      await write();
    } finally {
      this.#writesInFlight--;
      this.#writeEpoch++;
      for (const k of keys) this.#cache.delete(k);
    }
  }

  async close(): Promise<void> {
    this.seal();
    await this.#below.close();
  }

  async #encrypt(key: string, value: Uint8Array): Promise<Uint8Array> {
    let { keyring } = this.#unsealed();
    let active = keyring.active;
    if (active.encryptions + 1 > active.reserved || active.encryptions + 1 >= this.#rotationThreshold) {
      await this.#withKeyring(async (root, ring) => {
        // Re-check under the lock: a concurrent writer may already have done the work.
        if (ring.active.encryptions + 1 >= this.#rotationThreshold) ring.rotate();
        if (ring.active.encryptions + 1 > ring.active.reserved) await this.#storeKeyring(root, ring);
      });
      keyring = this.#unsealed().keyring;
      active = keyring.active;
    }
    active.encryptions++;
    return seal(active.key, active.term, key, value);
  }

  async #storeKeyring(root: Buffer, keyring: Keyring, exact = false): Promise<void> {
    const { bytes, commit } = keyring.encode(exact);
    // Term 0: the keyring itself is encrypted by the root key, not by a keyring term.
    await this.#below.put(KEYRING_PATH, seal(root, 0, KEYRING_PATH, bytes));
    commit();
  }

  #withKeyring<T>(fn: (root: Buffer, keyring: Keyring) => Promise<T>): Promise<T> {
    const run = this.#keyringLock.then(() => {
      const { rootKey, keyring } = this.#unsealed();
      return fn(rootKey, keyring);
    });
    this.#keyringLock = run.catch(() => undefined);
    return run;
  }

  #unsealed(): Extract<State, { kind: 'unsealed' }> {
    if (this.#state.kind !== 'unsealed') throw new CofferError('sealed', 'Vault is sealed');
    return this.#state;
  }

  #assertWritable(key: string): void {
    assertKey(key);
    if (RESERVED_PATHS.has(key)) throw new TypeError(`${key} is reserved for the barrier`);
  }
}
