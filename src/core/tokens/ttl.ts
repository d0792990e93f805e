import { invalid } from '../../util/errors.js';

export interface TtlInput {
  /** Requested on renewal; 0 = none. */
  readonly increment: number;
  /** Requested at creation, or the token's own TTL on renewal; 0 = the mount default. */
  readonly ttl: number;
  readonly period: number;
  /** The effective max of the mount/system (already ≤ system max), > 0. */
  readonly mountMaxTtl: number;
  readonly mountDefaultTtl: number;
  /** A role's or auth method's cap; 0 = none. */
  readonly backendMaxTtl: number;
  readonly explicitMaxTtl: number;
  /** Unix ms the token was issued. */
  readonly issueTime: number;
  readonly now: number;
}

export interface TtlResult {
  /** Unix ms the token expires. */
  readonly expireAt: number;
  /** Whole seconds left, as lease_duration reports it. */
  readonly ttl: number;
  readonly warnings: string[];
}

/**
 * Vault's TTL rule: a periodic token gets its period (never above the max), others the
 * increment, the requested TTL or the default; nothing ever reaches past issue time + max TTL
 * (the smallest of mount/system max, backend max and explicit max). A periodic token is bound
 * only by its explicit max.
 */
export function calculateTtl(i: TtlInput): TtlResult {
  const warnings: string[] = [];
  let maxTtl = i.mountMaxTtl;
  if (i.backendMaxTtl > 0 && i.backendMaxTtl < maxTtl) maxTtl = i.backendMaxTtl;
  if (i.explicitMaxTtl > 0 && i.explicitMaxTtl < maxTtl) maxTtl = i.explicitMaxTtl;
  if (maxTtl <= 0) throw invalid('max TTL must be greater than zero');

  let ttl: number;
  let maxValid: number | undefined;
  if (i.period > 0) {
    ttl = i.period;
    if (ttl > maxTtl) {
      warnings.push(`period of ${goDuration(ttl)} exceeded the effective max_ttl of ${goDuration(maxTtl)}; period value is capped accordingly`);
      ttl = maxTtl;
    }
    if (i.explicitMaxTtl > 0) maxValid = i.issueTime + i.explicitMaxTtl * 1000;
  } else {
    ttl = i.increment > 0 ? i.increment : i.ttl > 0 ? i.ttl : i.mountDefaultTtl;
    maxValid = i.issueTime + maxTtl * 1000;
  }

  let expireAt = i.now + ttl * 1000;
  if (maxValid !== undefined) {
    if (maxValid <= i.now) throw invalid('past the max TTL, cannot renew');
    if (expireAt > maxValid) {
      warnings.push(`TTL of ${goDuration(ttl)} exceeded the effective max_ttl of ${goDuration(Math.floor((maxValid - i.now) / 1000))}; TTL value is capped accordingly`);
      expireAt = maxValid;
    }
  }
  return { expireAt, ttl: Math.floor((expireAt - i.now) / 1000), warnings };
}

/** Seconds as Go prints a time.Duration ("768h0m0s"), so warnings read as Vault's do. */
export function goDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (h > 0) return `"${h}h${m}m${r}s"`;
  if (m > 0) return `"${m}m${r}s"`;
  return `"${r}s"`;
}
