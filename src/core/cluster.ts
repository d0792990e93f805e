import { randomUUID } from 'node:crypto';
import type { Storage } from '../storage/types.js';
import { getJson, putJson } from '../storage/view.js';

const KEY = 'core/cluster';

/** The cluster's id: made once at init (inside the barrier), known only while unsealed. */
export class ClusterInfo {
  readonly #barrier: Storage;
  #id: string | undefined;

  constructor(barrier: Storage) {
    this.#barrier = barrier;
  }

  get id(): string | undefined { return this.#id; }

  async load(): Promise<void> {
    const stored = await getJson(this.#barrier, KEY);
    if (stored && typeof stored === 'object' && typeof (stored as { id?: unknown }).id === 'string') {
      this.#id = (stored as { id: string }).id;
      return;
    }
    const id = randomUUID();
    await putJson(this.#barrier, KEY, { id });
    this.#id = id;
  }

  unload(): void {
    this.#id = undefined;
  }
}
