/**
 * The in-memory side of rate-limit quotas: which rule applies to a request path, and each
 * rule's per-client-IP counters. Nothing here is stored; counters are per node and start empty
 * at every unseal, as Vault's are.
 */

export interface RateLimitRule {
  readonly name: string;
  /** A mount path with its trailing slash (`secret/`, `auth/userpass/`), or '' for a global quota. */
  readonly mountPath: string;
  /** A path under the mount (`data/foo`, or `data/foo/*` as a prefix), or ''. */
  readonly pathSuffix: string;
  /** Requests allowed per interval. */
  readonly rate: number;
  /** Seconds. */
  readonly interval: number;
  /** Seconds a client stays blocked once it went over the limit (0: not blocked beyond the interval). */
  readonly blockInterval: number;
}

/** What the HTTP layer needs: one boolean on the hot path, and the check itself. */
export interface QuotaGate {
  /** True only while at least one rate-limit quota exists (the HTTP layer skips everything else). */
  readonly active: boolean;
  check(path: string, clientIp: string, nowMs?: number): QuotaVerdict | undefined;
}

export interface QuotaVerdict {
  readonly allowed: boolean;
  /** `X-Ratelimit-*` (when enabled) and, for a rejection, `Retry-After`. */
  readonly headers: Readonly<Record<string, string>>;
}

interface Window {
  start: number;
  used: number;
  blockedUntil: number;
}

/** Sweep stale client windows at most this often. */
const SWEEP_MS = 60_000;

class Bucket {
  readonly rule: RateLimitRule;
  readonly #clients = new Map<string, Window>();
  readonly #tokens: number;
  readonly #intervalMs: number;
  #nextSweep = 0;

  constructor(rule: RateLimitRule) {
    this.rule = rule;
    this.#tokens = Math.max(1, Math.round(rule.rate));
    this.#intervalMs = Math.max(1, rule.interval) * 1000;
  }

  /** A fixed window per client that opens at its first request: `rate` requests, then 429 until it ends (or the block does). */
  take(ip: string, now: number, withHeaders: boolean): QuotaVerdict {
    if (now >= this.#nextSweep) this.#sweep(now);
    let w = this.#clients.get(ip);
    if (w && w.blockedUntil > now) return reject(w.blockedUntil - now, withHeaders ? this.#headers(0, w.blockedUntil - now) : {});
    if (!w || now - w.start >= this.#intervalMs) {
      // A new window begins at the boundary the client is in (as go-limiter's ticks do).
      const start = w ? w.start + Math.floor((now - w.start) / this.#intervalMs) * this.#intervalMs : now;
      w = { start, used: 0, blockedUntil: 0 };
      this.#clients.set(ip, w);
    }
    const resetMs = w.start + this.#intervalMs - now;
    if (w.used >= this.#tokens) {
      const blockMs = this.rule.blockInterval * 1000;
      if (blockMs > 0) w.blockedUntil = now + blockMs;
      const waitMs = blockMs > 0 ? blockMs : resetMs;
      return reject(waitMs, withHeaders ? this.#headers(0, resetMs) : {});
    }
    w.used++;
    return { allowed: true, headers: withHeaders ? this.#headers(this.#tokens - w.used, resetMs) : {} };
  }

  #headers(remaining: number, resetMs: number): Record<string, string> {
    return {
      'X-Ratelimit-Limit': String(this.#tokens),
      'X-Ratelimit-Remaining': String(remaining),
      'X-Ratelimit-Reset': String(Math.ceil(resetMs / 1000)),
    };
  }

  #sweep(now: number): void {
    this.#nextSweep = now + SWEEP_MS;
    for (const [ip, w] of this.#clients) {
      if (w.blockedUntil <= now && now - w.start >= this.#intervalMs) this.#clients.delete(ip);
    }
  }
}

function reject(waitMs: number, headers: Record<string, string>): QuotaVerdict {
  return { allowed: false, headers: { ...headers, 'Retry-After': String(Math.max(1, Math.ceil(waitMs / 1000))) } };
}

/** Exempt path patterns: exact, or a prefix when the entry ends in `*` (as Vault's path manager). */
export function exemptMatcher(paths: readonly string[]): (path: string) => boolean {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const p of paths) {
    const clean = p.replace(/^\/+/, '').replace(/^v1\//, '');
    if (clean.endsWith('*')) prefixes.push(clean.slice(0, -1));
    else exact.add(clean.replace(/\/$/, ''));
  }
  return (path) => exact.has(path.replace(/\/$/, '')) || prefixes.some((p) => path.startsWith(p));
}

/**
 * The rules compiled for lookup. Priority, most specific first (as Vault): an exact path under a
 * mount, then the longest `*` prefix under a mount, then the longest mount, then the global rule.
 */
export class Limiter {
  readonly #exact = new Map<string, Bucket>();
  readonly #prefixes: Bucket[] = [];
  readonly #mounts: Bucket[] = [];
  readonly #global: Bucket | undefined;

  constructor(rules: readonly RateLimitRule[], previous?: Limiter) {
    // Keep the counters of rules that did not change (a write to another quota resets nothing).
    const old = new Map<string, Bucket>();
    for (const b of previous ? previous.#all() : []) old.set(b.rule.name, b);
    let global: Bucket | undefined;
    for (const rule of rules) {
      const kept = old.get(rule.name);
      const b = kept && sameRule(kept.rule, rule) ? kept : new Bucket(rule);
      if (rule.mountPath === '') global = b;
      else if (rule.pathSuffix === '') this.#mounts.push(b);
      else if (rule.pathSuffix.endsWith('*')) this.#prefixes.push(b);
      else this.#exact.set(rule.mountPath + rule.pathSuffix.replace(/\/$/, ''), b);
    }
    const longestFirst = (a: Bucket, b: Bucket): number => key(b).length - key(a).length;
    this.#prefixes.sort(longestFirst);
    this.#mounts.sort(longestFirst);
    this.#global = global;
  }

  get size(): number {
    return this.#all().length;
  }

  take(path: string, ip: string, now: number, withHeaders: boolean): QuotaVerdict | undefined {
    const bucket = this.#match(path);
    return bucket?.take(ip, now, withHeaders);
  }

  #match(path: string): Bucket | undefined {
    const exact = this.#exact.get(path.replace(/\/$/, ''));
    if (exact) return exact;
    for (const b of this.#prefixes) if (path.startsWith(key(b).slice(0, -1))) return b;
    for (const b of this.#mounts) if (path.startsWith(b.rule.mountPath) || `${path}/` === b.rule.mountPath) return b;
    return this.#global;
  }

  #all(): Bucket[] {
    return [...this.#exact.values(), ...this.#prefixes, ...this.#mounts, ...(this.#global ? [this.#global] : [])];
  }
}

const key = (b: Bucket): string => b.rule.mountPath + b.rule.pathSuffix;

function sameRule(a: RateLimitRule, b: RateLimitRule): boolean {
  return a.mountPath === b.mountPath && a.pathSuffix === b.pathSuffix && a.rate === b.rate && a.interval === b.interval && a.blockInterval === b.blockInterval;
}
