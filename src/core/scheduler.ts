import * as z from 'zod';
import type { Storage } from '../storage/types.js';
import { getJson, putJson } from '../storage/view.js';
import type { Logger } from '../util/logger.js';

/** setTimeout's ceiling (~24.8 days). */
const MAX_DELAY = 2 ** 31 - 1;
/** How long to wait before looking again when this node is not the active one. */
const INACTIVE_RECHECK_MS = 1000;

export interface Job {
  /** Unique; registering the same name again replaces the job (a re-mounted backend does). */
  readonly name: string;
  /** Milliseconds between runs (measured from when a run was due, so runs do not drift). */
  readonly intervalMs: number;
  /**
   * Keep the last run in the barrier, so a restart runs a missed run once at start and does not
   * repeat a run that already happened. Jobs whose state lives elsewhere (a 1 s tick) skip it.
   */
  readonly persist?: boolean;
  run(): Promise<void>;
}

export interface JobStatus {
  readonly name: string;
  readonly lastRun: number | null;
  readonly lastError: string | null;
  readonly nextRun: number | null;
}

const stateSchema = z.object({ lastRun: z.number(), lastError: z.string().nullable().default(null) });

export interface SchedulerDeps {
  /** A barrier view of its own (`sys/scheduler/`). */
  readonly storage: Storage;
  readonly logger: Logger;
  /** The HA seam: jobs run only while this is true (the active node). */
  readonly isActive: () => boolean;
  readonly now?: () => number;
}

interface Slot {
  job: Job;
  lastRun: number | null;
  lastError: string | null;
  next: number;
  running: Promise<void> | undefined;
}

/**
 * One service for periodic work (token sweep, lease tidy, database rotations). One timer is
 * armed for the earliest job. `start()` on unseal (active node), `stop()` on seal.
 */
export class Scheduler {
  readonly #d: SchedulerDeps;
  readonly #now: () => number;
  readonly #slots = new Map<string, Slot>();
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #starting: Promise<void> | undefined;

  constructor(deps: SchedulerDeps) {
    this.#d = deps;
    this.#now = deps.now ?? Date.now;
  }

  register(job: Job): void {
    if (!Number.isFinite(job.intervalMs) || job.intervalMs <= 0) throw new TypeError(`job ${job.name}: intervalMs must be positive`);
    const old = this.#slots.get(job.name);
    const slot: Slot = { job, lastRun: old?.lastRun ?? null, lastError: old?.lastError ?? null, next: old?.next ?? this.#now() + job.intervalMs, running: old?.running };
    this.#slots.set(job.name, slot);
    if (this.#running && job.persist && !old) void this.#restore(slot).then(() => this.#arm());
    else this.#arm();
  }

  unregister(name: string): void {
    this.#slots.delete(name);
    this.#arm();
  }

  status(): JobStatus[] {
    return [...this.#slots.values()].map((s) => ({ name: s.job.name, lastRun: s.lastRun, lastError: s.lastError, nextRun: this.#running ? s.next : null }));
  }

  /** Reads the persisted last runs, then arms: a job whose next run passed while down runs now, once. */
  start(): Promise<void> {
    if (this.#running) return this.#starting ?? Promise.resolve();
    this.#running = true;
    this.#starting = (async () => {
      for (const slot of this.#slots.values()) {
        if (slot.job.persist) await this.#restore(slot);
        else slot.next = this.#now() + slot.job.intervalMs;
      }
      this.#arm();
    })().catch((error: unknown) => {
      this.#d.logger.error({ err: { message: error instanceof Error ? error.message : String(error) } }, 'scheduler could not start');
    });
    return this.#starting;
  }

  /** Stops the timer and waits for runs in flight. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#starting;
    await Promise.all([...this.#slots.values()].map((s) => s.running));
  }

  /** Runs a job now (if not already running), e.g. from an API call. */
  async runNow(name: string): Promise<void> {
    const slot = this.#slots.get(name);
    if (slot) await this.#run(slot, this.#now());
  }

  async #restore(slot: Slot): Promise<void> {
    const raw = await getJson(this.#d.storage, keyOf(slot.job.name));
    const parsed = raw === undefined ? undefined : stateSchema.safeParse(raw);
    const now = this.#now();
    if (parsed?.success) {
      slot.lastRun = parsed.data.lastRun;
      slot.lastError = parsed.data.lastError;
      // Missed while down: due now (once). Not missed: exactly one interval after the last run.
      slot.next = Math.max(now, parsed.data.lastRun + slot.job.intervalMs);
    } else {
      slot.next = now + slot.job.intervalMs;
    }
  }

  #arm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#running) return;
    let earliest = Infinity;
    for (const s of this.#slots.values()) if (!s.running && s.next < earliest) earliest = s.next;
    if (earliest === Infinity) return;
    this.#timer = setTimeout(() => this.#tick(), Math.min(MAX_DELAY, Math.max(0, earliest - this.#now())));
    this.#timer.unref();
  }

  #tick(): void {
    this.#timer = undefined;
    if (!this.#running) return;
    const now = this.#now();
    if (!this.#d.isActive()) {
      for (const s of this.#slots.values()) if (s.next <= now) s.next = now + INACTIVE_RECHECK_MS;
      this.#arm();
      return;
    }
    for (const s of this.#slots.values()) if (!s.running && s.next <= now) void this.#run(s, s.next);
    this.#arm();
  }

  async #run(slot: Slot, dueAt: number): Promise<void> {
    if (slot.running) return slot.running;
    const run = (async () => {
      let error: string | null = null;
      try {
        await slot.job.run();
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
        this.#d.logger.error({ job: slot.job.name, err: { message: error } }, 'scheduled job failed');
      }
      const now = this.#now();
      slot.lastRun = dueAt;
      slot.lastError = error;
      // The next slot after this one that is still ahead: a long outage runs once, not many times.
      const interval = slot.job.intervalMs;
      slot.next = dueAt + interval * Math.max(1, Math.ceil((now - dueAt + 1) / interval));
      if (slot.job.persist && this.#running) {
        await putJson(this.#d.storage, keyOf(slot.job.name), { lastRun: dueAt, lastError: error }).catch((e: unknown) => {
          this.#d.logger.error({ job: slot.job.name, err: { message: e instanceof Error ? e.message : String(e) } }, 'could not record a scheduled run');
        });
      }
    })();
    slot.running = run;
    try { await run; } finally {
      slot.running = undefined;
      this.#arm();
    }
  }
}

const keyOf = (name: string): string => `job/${encodeURIComponent(name)}`;
