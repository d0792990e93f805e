import type { Logger } from '../../util/logger.js';
import { TimeHeap } from './heap.js';
import type { LeaseStore } from './store.js';

/** setTimeout's ceiling (~24.8 days); a later top is re-armed when the timer fires. */
const MAX_DELAY = 2 ** 31 - 1;
/** Due keys handled per round before yielding to the event loop (keeps reads fast in a mass expiry). */
const BATCH = 64;
const TOKEN_PREFIX = '\0t:';

export interface ExpiryQueueOptions {
  readonly store: LeaseStore;
  /** Revokes (or reschedules) a lease whose time has come. Must not throw for backend failures. */
  readonly onLeaseDue: (id: string) => Promise<void>;
  /** Checks a token that holds leases when its TTL ends. */
  readonly onTokenDue: (tokenId: string) => Promise<void>;
  /** The HA seam: only the active node expires leases. */
  readonly isActive: () => boolean;
  readonly logger: Logger;
  readonly now: () => number;
  /** Revocations in flight at once. */
  readonly concurrency: number;
}

/**
 * The one ordered index behind lease expiry: a heap of lease ids (and of tokens holding leases)
 * by due time, one timer armed for its top, and a background loader that fills it from the due
 * index after unseal while requests are already served.
 */
export class ExpiryQueue {
  readonly #o: ExpiryQueueOptions;
  readonly #heap = new TimeHeap();
  #tokens = 0;
  #timer: NodeJS.Timeout | undefined;
  #armedAt = Infinity;
  #running = false;
  #draining: Promise<void> | undefined;
  /** Bumped by stop(): a loader or drain of an older run stops at its next step. */
  #generation = 0;
  #loading: Promise<void> | undefined;
  #loaded = false;

  constructor(options: ExpiryQueueOptions) {
    this.#o = options;
  }

  get leaseCount(): number { return this.#heap.size - this.#tokens; }
  get loaded(): boolean { return this.#loaded; }

  scheduleLease(id: string, time: number): void {
    this.#heap.set(id, time);
    this.#armIfEarlier(time);
  }

  unscheduleLease(id: string): void {
    this.#heap.delete(id);
  }

  /** Watches a token at `time` (keeping an earlier watch if there is one). */
  watchToken(tokenId: string, time: number): void {
    const key = TOKEN_PREFIX + tokenId;
    const current = this.#heap.timeOf(key);
    if (current !== undefined && current <= time) return;
    if (current === undefined) this.#tokens++;
    this.#heap.set(key, time);
    this.#armIfEarlier(time);
  }

  unwatchToken(tokenId: string): void {
    const key = TOKEN_PREFIX + tokenId;
    if (!this.#heap.has(key)) return;
    this.#heap.delete(key);
    this.#tokens--;
  }

  /** Starts the timer and the background load; returns at once (the load is `whenLoaded`). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loaded = false;
    const generation = this.#generation;
    this.#loading = this.#load(generation).catch((error: unknown) => {
      this.#o.logger.error({ err: { message: error instanceof Error ? error.message : String(error) } }, 'loading leases failed');
    });
    this.#arm();
  }

  whenLoaded(): Promise<void> {
    return this.#loading ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#generation++;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedAt = Infinity;
    await this.#loading;
    await this.#draining;
    this.#heap.clear();
    this.#tokens = 0;
    this.#loaded = false;
  }

  async #load(generation: number): Promise<void> {
    const started = this.#o.now();
    let count = 0;
    let lastYield = performance.now();
    await this.#o.store.walkDue(async (entries) => {
      if (generation !== this.#generation) return false;
      for (const e of entries) {
        // add, not set: a renewal or revocation made while loading is newer than the index we read.
        if (!this.#heap.has(e.id)) {
          this.#heap.add(e.id, e.time);
          count++;
        }
      }
      const first = entries[0];
      if (first) this.#armIfEarlier(first.time);
      // Listing is synchronous in SQLite: let requests in every few milliseconds.
      if (performance.now() - lastYield > 4) {
        await yieldToLoop();
        lastYield = performance.now();
      }
      return true;
    });
    if (generation !== this.#generation) return;
    const now = this.#o.now();
    for (const tokenId of await this.#o.store.tokensWithLeases()) this.watchToken(tokenId, now);
    this.#loaded = true;
    this.#o.logger.info({ leases: count, ms: this.#o.now() - started }, 'leases loaded');
  }

  #armIfEarlier(time: number): void {
    if (this.#running && time < this.#armedAt) this.#arm();
  }

  #arm(): void {
    if (!this.#running) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedAt = Infinity;
    if (this.#draining) return; // the drain re-arms when it ends
    const top = this.#heap.peek();
    if (!top) return;
    const delay = Math.min(MAX_DELAY, Math.max(0, top.time - this.#o.now()));
    this.#armedAt = top.time;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#armedAt = Infinity;
      this.#draining = this.#drain(this.#generation).finally(() => {
        this.#draining = undefined;
        this.#arm();
      });
    }, delay);
    this.#timer.unref();
  }

  async #drain(generation: number): Promise<void> {
    if (!this.#o.isActive()) {
      // Not the active node (or sealing): look again shortly without touching the index.
      await new Promise((r) => setTimeout(r, 1000).unref());
      return;
    }
    for (;;) {
      if (generation !== this.#generation) return;
      const due = this.#heap.popDue(this.#o.now(), BATCH);
      if (due.length === 0) return;
      const work = due.map((key) => () => {
        if (key.startsWith(TOKEN_PREFIX)) {
          this.#tokens--;
          return this.#o.onTokenDue(key.slice(TOKEN_PREFIX.length));
        }
        return this.#o.onLeaseDue(key);
      });
      await runLimited(work, this.#o.concurrency, (error) => {
        this.#o.logger.error({ err: { message: error instanceof Error ? error.message : String(error) } }, 'lease expiry step failed');
      });
      await yieldToLoop();
    }
  }
}

const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

async function runLimited(tasks: (() => Promise<void>)[], limit: number, onError: (e: unknown) => void): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const task = tasks[next++]!;
      try { await task(); } catch (e) { onError(e); }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}
