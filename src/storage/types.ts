/**
 * The physical storage contract. Storage is untrusted: it only ever sees bytes that the barrier
 * has already encrypted (except for the few records the barrier itself stores, which are also
 * encrypted or public). Keys are '/'-separated paths without a leading '/'.
 */
export type StorageOp =
  | { readonly kind: 'put'; readonly key: string; readonly value: Uint8Array }
  | { readonly kind: 'delete'; readonly key: string };

/**
 * Turns a stored value into the object its owner reads. The result must be immutable (see
 * `frozenJson` in ./view.ts): a backend with a read cache may hand the same object out again.
 * `decode` must not keep or change the bytes it is given.
 */
export interface Decoder<T> {
  readonly decode: (bytes: Uint8Array) => T;
}

export interface Storage {
  /** The value at `key`, or undefined. */
  get(key: string): Promise<Uint8Array | undefined>;
  /**
   * Optional: the value at `key` decoded by `decoder`. A backend with a read cache keeps the
   * decoded object beside the bytes and returns it again until the key is written, so hot
   * records (token entries, KV metadata) are not parsed on every request. Use `getDecoded()`
   * from ./view.ts, which falls back to get + decode.
   */
  getDecoded?<T>(key: string, decoder: Decoder<T>): Promise<T | undefined>;
  put(key: string, value: Uint8Array): Promise<void>;
  /** Deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  /**
   * The direct children of `prefix` (which is '' or ends in '/'), sorted; a child that has
   * descendants is returned once, with a trailing '/'. A key may be both a leaf and a folder.
   */
  list(prefix: string): Promise<string[]>;
  /** Applies every op or none. */
  transaction(ops: readonly StorageOp[]): Promise<void>;
  close(): Promise<void>;
}

/** Optional capability: a backend that can elect one active node among several (HA). */
export interface HALockable {
  readonly haEnabled: true;
  lock(holderId: string, ttlMs: number): Promise<{ held: boolean; leaderId?: string }>;
}

/** Optional capability: a backend that tells of changes made by other processes. */
export interface ChangeNotifier {
  onChange(listener: (key: string) => void): () => void;
}

export const isHALockable = (s: Storage): s is Storage & HALockable =>
  (s as Partial<HALockable>).haEnabled === true;

/** Keys are validated at this layer too, so no backend ever sees an ambiguous key. */
export function assertKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.startsWith('/') || key.includes('//') || key.includes('\0')) {
    throw new TypeError(`invalid storage key ${JSON.stringify(key)}`);
  }
}

export function assertPrefix(prefix: string): void {
  if (typeof prefix !== 'string' || (prefix !== '' && !prefix.endsWith('/')) || prefix.startsWith('/') || prefix.includes('\0')) {
    throw new TypeError(`invalid storage prefix ${JSON.stringify(prefix)}`);
  }
}
