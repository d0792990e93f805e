/**
 * A bounded LRU of decrypted records, kept by the barrier. Valid because every write of this
 * node goes through the same barrier (on HA standbys the barrier is sealed or the cache is
 * dropped); cleared — and overwritten — on seal.
 */
export class ReadCache {
  readonly #max: number;
  readonly #maxValueBytes: number;
  readonly #map = new Map<string, Buffer>();

  constructor(maxEntries: number, maxValueBytes = 64 * 1024) {
    this.#max = maxEntries;
    this.#maxValueBytes = maxValueBytes;
  }

  get(key: string): Uint8Array | undefined {
    const v = this.#map.get(key);
    if (v === undefined) return undefined;
    // Re-insert: Map iteration order is insertion order, so the oldest entry is first.
    this.#map.delete(key);
    this.#map.set(key, v);
    return Buffer.from(v);
  }

  set(key: string, value: Uint8Array): void {
    if (this.#max === 0) return;
    this.delete(key);
    if (value.byteLength > this.#maxValueBytes) return;
    this.#map.set(key, Buffer.from(value));
    if (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next().value;
      if (oldest !== undefined) this.delete(oldest);
    }
  }

  delete(key: string): void {
    const v = this.#map.get(key);
    if (v) {
      v.fill(0);
      this.#map.delete(key);
    }
  }

  clear(): void {
    for (const v of this.#map.values()) v.fill(0);
    this.#map.clear();
  }
}
