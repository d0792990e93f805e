/**
 * One timing series (a go-metrics "sample", in milliseconds), kept the two ways Vault shows it:
 * 10-second intervals for the in-memory JSON dump, and running totals plus recent observations
 * for the Prometheus summary. Observing allocates nothing: fixed fields and preallocated rings.
 */

/** go-metrics' in-memory sink aggregates into 10-second intervals (Vault keeps six). */
export const INTERVAL_MS = 10_000;
/** The Prometheus summary's quantiles cover the last 10 seconds (go-metrics' MaxAge). */
export const QUANTILE_WINDOW_MS = 10_000;
/** Recent observations kept for quantiles; past this many in the window, the newest are used. */
const RING_SIZE = 1024;
const RING_MASK = RING_SIZE - 1;

/** Read once: the getter costs more than the rest of an observation. */
const ORIGIN = performance.timeOrigin;
/** Wall-clock ms of a performance.now() reading. */
export const wallClock = (now: number): number => ORIGIN + now;
export const intervalOf = (now: number): number => Math.floor(wallClock(now) / INTERVAL_MS);

/** go-metrics' AggregateSample of one interval. */
export interface IntervalStats {
  readonly count: number;
  readonly sum: number;
  readonly sumSq: number;
  readonly min: number;
  readonly max: number;
}

export class Timer {
  /** Since start: the Prometheus summary's `_count` and `_sum`. */
  count = 0;
  sum = 0;
  /** performance.now() of the newest observation (Prometheus retention drops stale series). */
  lastUpdated = Number.NEGATIVE_INFINITY;

  #interval = -1;
  /** performance.now() at which #interval ends: one comparison per observation instead of a division. */
  #intervalEnd = Number.NEGATIVE_INFINITY;
  #count = 0;
  #sum = 0;
  #sumSq = 0;
  #min = 0;
  #max = 0;
  #previous: { interval: number; stats: IntervalStats } | undefined;
  readonly #values = new Float64Array(RING_SIZE);
  readonly #times = new Float64Array(RING_SIZE);
  #head = 0;
  #filled = 0;

  constructor(readonly name: string) {}

  /** One observation of `ms`, made at performance.now() `now`. */
  observe(ms: number, now: number): void {
    this.count++;
    this.sum += ms;
    this.lastUpdated = now;
    if (now >= this.#intervalEnd) this.#roll(now);
    this.#count++;
    this.#sum += ms;
    this.#sumSq += ms * ms;
    if (this.#count === 1 || ms < this.#min) this.#min = ms;
    if (this.#count === 1 || ms > this.#max) this.#max = ms;
    this.#values[this.#head] = ms;
    this.#times[this.#head] = now;
    this.#head = (this.#head + 1) & RING_MASK;
    if (this.#filled < RING_SIZE) this.#filled++;
  }

  /** The aggregate of one interval, if this series saw anything in it. */
  statsFor(interval: number): IntervalStats | undefined {
    if (interval === this.#interval && this.#count > 0) {
      return { count: this.#count, sum: this.#sum, sumSq: this.#sumSq, min: this.#min, max: this.#max };
    }
    return this.#previous?.interval === interval ? this.#previous.stats : undefined;
  }

  /** Nearest-rank quantiles of the observations of the last QUANTILE_WINDOW_MS; NaN when there are none. */
  quantiles(now: number, qs: readonly number[]): number[] {
    const recent: number[] = [];
    for (let i = 0; i < this.#filled; i++) {
      if (now - this.#times[i]! <= QUANTILE_WINDOW_MS) recent.push(this.#values[i]!);
    }
    recent.sort((a, b) => a - b);
    return qs.map((q) => (recent.length === 0 ? Number.NaN : recent[Math.min(recent.length - 1, Math.max(0, Math.ceil(q * recent.length) - 1))]!));
  }

  #roll(now: number): void {
    const interval = intervalOf(now);
    this.#intervalEnd = (interval + 1) * INTERVAL_MS - ORIGIN;
    if (interval === this.#interval) return; // the end rounded early; still the same interval
    this.#previous = this.#count > 0
      ? { interval: this.#interval, stats: { count: this.#count, sum: this.#sum, sumSq: this.#sumSq, min: this.#min, max: this.#max } }
      : undefined;
    this.#interval = interval;
    this.#count = 0;
    this.#sum = 0;
    this.#sumSq = 0;
  }
}
