import { assertKey, assertPrefix, type Decoder, type Storage, type StorageOp } from './types.js';

/**
 * A chroot into another Storage: every key is confined under `prefix`, and the view cannot
 * name anything outside it (keys are validated, so no '..' trick exists at this layer).
 */
export class PrefixView implements Storage {
  readonly #below: Storage;
  readonly #prefix: string;

  constructor(below: Storage, prefix: string) {
    assertPrefix(prefix);
    if (prefix === '') throw new TypeError('a view needs a non-empty prefix');
    this.#below = below;
    this.#prefix = prefix;
  }

  get prefix(): string { return this.#prefix; }

  get(key: string): Promise<Uint8Array | undefined> { assertKey(key); return this.#below.get(this.#prefix + key); }
  put(key: string, value: Uint8Array): Promise<void> { assertKey(key); return this.#below.put(this.#prefix + key, value); }
  delete(key: string): Promise<void> { assertKey(key); return this.#below.delete(this.#prefix + key); }
  list(prefix: string): Promise<string[]> { assertPrefix(prefix); return this.#below.list(this.#prefix + prefix); }
  getDecoded<T>(key: string, decoder: Decoder<T>): Promise<T | undefined> { assertKey(key); return getDecoded(this.#below, this.#prefix + key, decoder); }

  transaction(ops: readonly StorageOp[]): Promise<void> {
    return this.#below.transaction(ops.map((op) => {
      assertKey(op.key);
      return { ...op, key: this.#prefix + op.key };
    }));
  }

  /** A view never closes what it looks into. */
  async close(): Promise<void> {}
}

/** Every key under `prefix` of `storage` (recursive), for deleting a mount's data. */
export async function collectKeys(storage: Storage, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const child of await storage.list(prefix)) {
    if (child.endsWith('/')) out.push(...(await collectKeys(storage, prefix + child)));
    else out.push(prefix + child);
  }
  return out;
}

const parseJsonBytes = (bytes: Uint8Array): unknown => JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));

/** JSON helpers for the many stores that keep small records. */
export async function getJson(storage: Storage, key: string): Promise<unknown> {
  const raw = await storage.get(key);
  return raw === undefined ? undefined : parseJsonBytes(raw);
}

/** The value at `key` through `decoder`, from the backend's decoded cache when it has one. */
export async function getDecoded<T>(storage: Storage, key: string, decoder: Decoder<T>): Promise<T | undefined> {
  if (storage.getDecoded) return storage.getDecoded(key, decoder);
  const raw = await storage.get(key);
  return raw === undefined ? undefined : decoder.decode(raw);
}

/** Objects that nobody can change: what a decoded cache may share between requests. */
export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

function deepFreeze<T>(value: T): DeepReadonly<T> {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value as DeepReadonly<T>;
}

/**
 * A decoder for a JSON record checked by `check` (a schema's parse, say) and deep-frozen, so a
 * cached copy can be shared: code that tried to change it would throw, not corrupt the cache.
 * Keep one per record type (a module constant): the cache recognizes a decoder by identity.
 */
export function frozenJson<T>(check: (raw: unknown) => T): Decoder<DeepReadonly<T>> {
  return { decode: (bytes) => deepFreeze(check(parseJsonBytes(bytes))) };
}

export function putJson(storage: Storage, key: string, value: unknown): Promise<void> {
  return storage.put(key, Buffer.from(JSON.stringify(value), 'utf8'));
}

export function jsonOp(key: string, value: unknown): StorageOp {
  return { kind: 'put', key, value: Buffer.from(JSON.stringify(value), 'utf8') };
}
