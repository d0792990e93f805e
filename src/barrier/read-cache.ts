import type { Decoder } from '../storage/types.js';

interface Entry {
  readonly bytes: Buffer;
  /** The record as one decoder last decoded it (immutable; dropped with the entry). */
  decoded?: { readonly decoder: Decoder<unknown>; readonly value: unknown };
}

/**
 * A bounded LRU of decrypted records, kept by the barrier. Valid because every write of this
 * node goes through the same barrier (on HA standbys the barrier is sealed or the cache is
 * dropped); cleared — and overwritten — on seal. Beside the bytes, an entry may hold the record
 * decoded (parsed, checked, frozen) so hot records are not parsed on every request; a write of
 * the key replaces the entry and with it the decoded object.
 */
export class ReadCache {
  readonly #max: number;
  readonly #maxValueBytes: number;
  readonly #map = new Map<string, Entry>();

  constructor(maxEntries: number, maxValueBytes = 64 * 1024) {
    this.#max = maxEntries;
    this.#maxValueBytes = maxValueBytes;
  }

  get(key: string): Uint8Array | undefined {
    const e = this.#touch(key);
    return e === undefined ? undefined : Buffer.from(e.bytes);
  }

  /** The cached record through `decoder` (decoded once, then shared), or undefined on a miss. */
  getDecoded<T>(key: string, decoder: Decoder<T>): T | undefined {
    const e = this.#touch(key);
    if (e === undefined) return undefined;
    if (e.decoded?.decoder === decoder) return e.decoded.value as T;
    const value = decoder.decode(e.bytes);
    e.decoded = { decoder, value };
    return value;
  }

  set(key: string, value: Uint8Array): void {
    if (this.#max === 0) return;
    this.delete(key);
    if (value.byteLength > this.#maxValueBytes) return;
    this.#map.set(key, { bytes: Buffer.from(value) });
    if (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next().value;
      if (oldest !== undefined) this.delete(oldest);
    }
  }

  delete(key: string): void {
    const e = this.#map.get(key);
    if (e) {
      e.bytes.fill(0);
      this.#map.delete(key);
    }
  }

  clear(): void {
    for (const e of this.#map.values()) e.bytes.fill(0);
    this.#map.clear();
  }

  #touch(key: string): Entry | undefined {
    const e = this.#map.get(key);
    if (e === undefined) return undefined;
    // Re-insert: Map iteration order is insertion order, so the oldest entry is first.
    this.#map.delete(key);
    this.#map.set(key, e);
    return e;
  }
}
