import { assertKey, assertPrefix, type Storage, type StorageOp } from './types.js';

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

/** JSON helpers for the many stores that keep small records. */
export async function getJson(storage: Storage, key: string): Promise<unknown> {
  const raw = await storage.get(key);
  return raw === undefined ? undefined : JSON.parse(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8'));
}

export function putJson(storage: Storage, key: string, value: unknown): Promise<void> {
  return storage.put(key, Buffer.from(JSON.stringify(value), 'utf8'));
}

export function jsonOp(key: string, value: unknown): StorageOp {
  return { kind: 'put', key, value: Buffer.from(JSON.stringify(value), 'utf8') };
}
