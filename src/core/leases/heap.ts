/**
 * A binary min-heap of (key, time) with an index from key to slot, so one key is in the heap at
 * most once and can be moved or removed in O(log n). The expiration manager keeps every lease
 * (and every token it watches) here and arms a single timer for the top.
 */
export class TimeHeap {
  #keys: string[] = [];
  #times: number[] = [];
  readonly #slot = new Map<string, number>();

  get size(): number { return this.#keys.length; }

  has(key: string): boolean { return this.#slot.has(key); }

  timeOf(key: string): number | undefined {
    const i = this.#slot.get(key);
    return i === undefined ? undefined : this.#times[i];
  }

  /** Adds `key` at `time`, or moves it there if it is already in the heap. */
  set(key: string, time: number): void {
    const i = this.#slot.get(key);
    if (i === undefined) {
      this.#keys.push(key);
      this.#times.push(time);
      this.#slot.set(key, this.#keys.length - 1);
      this.#up(this.#keys.length - 1);
      return;
    }
    const old = this.#times[i]!;
    this.#times[i] = time;
    if (time < old) this.#up(i);
    else this.#down(i);
  }

  /** Adds `key` only if it is not there yet (a background load must not undo a newer change). */
  add(key: string, time: number): void {
    if (!this.#slot.has(key)) this.set(key, time);
  }

  delete(key: string): void {
    const i = this.#slot.get(key);
    if (i === undefined) return;
    const last = this.#keys.length - 1;
    this.#swap(i, last);
    this.#keys.pop();
    this.#times.pop();
    this.#slot.delete(key);
    if (i < last) {
      this.#up(i);
      this.#down(i);
    }
  }

  peek(): { key: string; time: number } | undefined {
    return this.#keys.length === 0 ? undefined : { key: this.#keys[0]!, time: this.#times[0]! };
  }

  /** Removes and returns up to `max` keys whose time is at or before `now`, earliest first. */
  popDue(now: number, max: number): string[] {
    const out: string[] = [];
    while (out.length < max && this.#keys.length > 0 && this.#times[0]! <= now) {
      const key = this.#keys[0]!;
      this.delete(key);
      out.push(key);
    }
    return out;
  }

  clear(): void {
    this.#keys = [];
    this.#times = [];
    this.#slot.clear();
  }

  #up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.#times[parent]! <= this.#times[i]!) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const n = this.#keys.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.#times[l]! < this.#times[m]!) m = l;
      if (r < n && this.#times[r]! < this.#times[m]!) m = r;
      if (m === i) return;
      this.#swap(i, m);
      i = m;
    }
  }

  #swap(a: number, b: number): void {
    if (a === b) return;
    const ka = this.#keys[a]!;
    const kb = this.#keys[b]!;
    this.#keys[a] = kb;
    this.#keys[b] = ka;
    const ta = this.#times[a]!;
    this.#times[a] = this.#times[b]!;
    this.#times[b] = ta;
    this.#slot.set(kb, a);
    this.#slot.set(ka, b);
  }
}
