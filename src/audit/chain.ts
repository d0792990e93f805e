import { chainLine, checkpointMac } from './line.js';
import type { AuditDevice, CheckpointReason, StoredCheckpoint } from './types.js';

export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

/** Which chain this is and the key its checkpoints are authenticated with (inside the barrier). */
export interface ChainIdentity {
  /** The device's uuid: a re-enabled device starts a new chain. */
  readonly chain: string;
  /** The device's path, written into checkpoints so `verify --server` knows whom to ask. */
  readonly device: string;
  readonly key: Uint8Array;
}

export interface ChainOptions {
  readonly prefix: string;
  readonly checkpointEntries: number;
  readonly checkpointIntervalMs: number;
  readonly maxBatchEntries?: number;
  readonly maxBatchBytes?: number;
}

export interface ChainEvents {
  /** A checkpoint line was written (persisting it is the listener's business, off the hot path). */
  onCheckpoint(checkpoint: StoredCheckpoint): void;
  /** A write nobody waits for (a timed checkpoint) failed. */
  onBackgroundError(error: unknown): void;
}

interface Settle {
  resolve(): void;
  reject(error: unknown): void;
}

type Item =
  | { readonly kind: 'entry'; readonly body: string; readonly done: Settle }
  | { readonly kind: 'checkpoint'; readonly reason: CheckpointReason; readonly done: Settle }
  /** Writes only what is pending (the opening checkpoint); the enable probe. */
  | { readonly kind: 'flush'; readonly done: Settle }
  | { readonly kind: 'reopen'; readonly done: Settle };

const NOOP: Settle = { resolve: () => {}, reject: () => {} };
/** Entries waiting for one device beyond this are refused: a stalled device must not eat the heap. */
const MAX_QUEUED = 100_000;

/**
 * One device's hash chain and its write queue. Entries are numbered and chained only when a
 * batch is actually written, so a failed write leaves no gap: the chain holds exactly what
 * reached the device. Writes are group-committed: while one batch is being written, the
 * entries of concurrent requests queue up and go out together in the next single write (and
 * share one fsync when the device syncs).
 */
export class ChainedDevice {
  readonly device: AuditDevice;
  readonly #id: ChainIdentity;
  readonly #opts: Required<ChainOptions>;
  readonly #events: ChainEvents;
  #head: ChainHead;
  /** The checkpoint that must open the next write (every file a device opens starts with one). */
  #opening: CheckpointReason | null;
  #sinceCheckpoint = 0;
  #queue: Item[] = [];
  #draining = false;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(device: AuditDevice, id: ChainIdentity, head: ChainHead, opening: CheckpointReason, options: ChainOptions, events: ChainEvents) {
    this.device = device;
    this.#id = id;
    this.#head = head;
    this.#opening = opening;
    this.#opts = { maxBatchEntries: 512, maxBatchBytes: 4 << 20, ...options };
    this.#events = events;
    this.#timer = setInterval(() => {
      if (this.#sinceCheckpoint > 0) this.checkpoint('interval').catch((e: unknown) => this.#events.onBackgroundError(e));
    }, this.#opts.checkpointIntervalMs);
    this.#timer.unref();
  }

  get head(): ChainHead { return this.#head; }

  /** Queues one entry (a JSON object's text); resolves once it is on the device. */
  append(body: string): Promise<void> {
    return this.#enqueue((done) => ({ kind: 'entry', body, done }));
  }

  /** Writes the pending opening checkpoint now (Vault's enable probe); resolves at once if none is pending. */
  start(): Promise<void> {
    return this.#enqueue((done) => ({ kind: 'flush', done }));
  }

  checkpoint(reason: CheckpointReason): Promise<void> {
    return this.#enqueue((done) => ({ kind: 'checkpoint', reason, done }));
  }

  /** Log rotation: a checkpoint ends the old file, the device reopens, a checkpoint starts the new one. */
  rotate(): Promise<void> {
    return this.#enqueue((done) => ({ kind: 'reopen', done }));
  }

  /** Writes a final checkpoint after everything queued, then closes the device. */
  async close(reason: CheckpointReason): Promise<void> {
    if (this.#closed) return;
    const last = this.checkpoint(reason);
    this.#closed = true;
    clearInterval(this.#timer);
    try {
      await last;
    } finally {
      await this.device.close();
    }
  }

  /** Closes without a final checkpoint (an enable that failed its probe). */
  async abort(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.device.close();
  }

  #enqueue(make: (done: Settle) => Item): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('audit device is closed'));
    if (this.#queue.length >= MAX_QUEUED) return Promise.reject(new Error(`audit device is ${MAX_QUEUED} entries behind`));
    return new Promise<void>((resolve, reject) => {
      this.#queue.push(make({ resolve, reject }));
      if (!this.#draining) {
        this.#draining = true;
        // After this turn of the event loop's I/O phase, so the entries of every request read
        // in it share the first write (a microtask would flush after the first request alone).
        setImmediate(() => void this.#drain());
      }
    });
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const first = this.#queue[0]!;
        if (first.kind === 'reopen') {
          this.#queue.shift();
          await this.#reopen(first.done);
          continue;
        }
        let n = 0;
        let bytes = 0;
        for (const q = this.#queue; n < q.length && q[n]!.kind !== 'reopen' && n < this.#opts.maxBatchEntries && bytes < this.#opts.maxBatchBytes; n++) {
          const item = q[n]!;
          if (item.kind === 'entry') bytes += item.body.length;
        }
        await this.#flush(this.#queue.splice(0, n));
      }
    } finally {
      this.#draining = false;
    }
  }

  async #reopen(done: Settle): Promise<void> {
    // The old file is closed out with a checkpoint; if that fails the reopen still happens,
    // since reopening is how a broken file gets replaced.
    await this.#flush([{ kind: 'checkpoint', reason: 'rotate', done: NOOP }]);
    let error: unknown;
    try {
      await this.device.reopen();
    } catch (e) {
      error = e;
    }
    this.#opening = 'open';
    await this.#flush([{ kind: 'flush', done: NOOP }]);
    if (error === undefined) done.resolve();
    else done.reject(error);
  }

  /** Numbers, chains and writes one batch; settles every item of it. Never throws. */
  async #flush(batch: readonly Item[]): Promise<void> {
    const { chain, device, key } = this.#id;
    const lines: string[] = [];
    const checkpoints: StoredCheckpoint[] = [];
    let seq = this.#head.seq;
    let prev = this.#head.hash;
    let since = this.#sinceCheckpoint;
    const add = (body: string): string => {
      seq += 1;
      const line = chainLine(seq, prev, body);
      lines.push(this.#opts.prefix + line.text);
      prev = line.hash;
      return line.hash;
    };
    const addCheckpoint = (reason: CheckpointReason): void => {
      const time = new Date().toISOString();
      const at = { chain, seq: seq + 1, prev_hash: prev, time, reason };
      const body = JSON.stringify({ type: 'checkpoint', time, reason, device, chain, mac: checkpointMac(key, at) });
      const hash = add(body);
      checkpoints.push({ seq: at.seq, hash, prev_hash: at.prev_hash, time, reason });
      since = 0;
    };

    if (this.#opening !== null) addCheckpoint(this.#opening);
    for (const item of batch) {
      if (item.kind === 'entry') {
        add(item.body);
        since += 1;
        if (since >= this.#opts.checkpointEntries) addCheckpoint('interval');
      } else if (item.kind === 'checkpoint') {
        addCheckpoint(item.reason);
      }
    }
    if (lines.length > 0) {
      try {
        await this.device.write(lines);
      } catch (error) {
        for (const item of batch) item.done.reject(error);
        return;
      }
      this.#head = { seq, hash: prev };
      this.#sinceCheckpoint = since;
      this.#opening = null;
    }
    for (const item of batch) item.done.resolve();
    for (const c of checkpoints) this.#events.onCheckpoint(c);
  }
}
