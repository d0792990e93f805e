import { assertKey, assertPrefix, type Storage, type StorageOp } from './types.js';
import { childrenOf } from './children.js';

/** Storage in a Map: for tests and `server --dev` without a data dir. Values are copied in and out. */
export class InmemStorage implements Storage {
  readonly #data = new Map<string, Uint8Array>();

  async get(key: string): Promise<Uint8Array | undefined> {
    assertKey(key);
    const v = this.#data.get(key);
    return v === undefined ? undefined : new Uint8Array(v);
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    assertKey(key);
    this.#data.set(key, new Uint8Array(value));
  }

  async delete(key: string): Promise<void> {
    assertKey(key);
    this.#data.delete(key);
  }

  async list(prefix: string): Promise<string[]> {
    assertPrefix(prefix);
    const keys: string[] = [];
    for (const k of this.#data.keys()) if (k.startsWith(prefix)) keys.push(k);
    keys.sort();
    return childrenOf(prefix, keys);
  }

  async transaction(ops: readonly StorageOp[]): Promise<void> {
    for (const op of ops) assertKey(op.key);
    for (const op of ops) {
      if (op.kind === 'put') this.#data.set(op.key, new Uint8Array(op.value));
      else this.#data.delete(op.key);
    }
  }

  async close(): Promise<void> {}
}
