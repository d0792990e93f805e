/**
 * Vault's duration rules (go-secure-stdlib `parseutil.ParseDurationSecond`), in whole seconds:
 *
 * - a number, or a string of digits, is seconds: `3600`, `"3600"`;
 * - `"<int>d"` is whole days: `"7d"`;
 * - anything else is a Go duration string: `"30s"`, `"5m"`, `"1h30m"`, `"1.5h"`, `"250ms"`,
 *   units `ns us µs ms s m h`; `"0"` is zero.
 *
 * Sub-second parts are rounded to the nearest second (`"1500ms"` → 2, `"400ms"` → 0).
 * Negative values, fractions of a bare number, and anything longer than Go's largest duration
 * (2^63-1 ns, about 292 years) are refused.
 *
 * This module is pure: it reports a problem string instead of throwing, so that both the
 * exported `parseDuration` (which throws `ConfigError`) and the config validation (which names
 * the key and line) can use it.
 */

/** Go's largest `time.Duration`, in nanoseconds. */
const MAX_NANOS = 2n ** 63n - 1n;
const NANOS_PER_SECOND = 1_000_000_000n;

const UNIT_NANOS: ReadonlyMap<string, bigint> = new Map([
  ['ns', 1n],
  ['us', 1_000n],
  ['\u00b5s', 1_000n], // µ (micro sign)
  ['\u03bcs', 1_000n], // μ (Greek mu)
  ['ms', 1_000_000n],
  ['s', NANOS_PER_SECOND],
  ['m', 60n * NANOS_PER_SECOND],
  ['h', 3600n * NANOS_PER_SECOND],
]);

export type DurationResult = { readonly seconds: number } | { readonly problem: string };

const fail = (problem: string): DurationResult => ({ problem });

function fromNanos(nanos: bigint, shown: string): DurationResult {
  if (nanos > MAX_NANOS) return fail(`duration ${shown} is too large`);
  // Round half up to whole seconds.
  const seconds = (nanos + NANOS_PER_SECOND / 2n) / NANOS_PER_SECOND;
  return { seconds: Number(seconds) };
}

/** One `<number><unit>` group at a time, as Go's time.ParseDuration does. */
const GROUP = /^(\d*)(?:\.(\d*))?([a-zµμ]+)/u;

function parseGoDuration(text: string): DurationResult {
  const shown = JSON.stringify(text);
  let rest = text;
  if (rest.startsWith('-')) return fail(`duration ${shown} must not be negative`);
  if (rest.startsWith('+')) rest = rest.slice(1);
  if (rest === '0') return { seconds: 0 };
  if (rest === '') return fail(`invalid duration ${shown}`);
  let total = 0n;
  while (rest !== '') {
    const m = GROUP.exec(rest);
    const whole = m?.[1] ?? '';
    const frac = m?.[2] ?? '';
    const unit = m?.[3] ?? '';
    if (m === null || (whole === '' && frac === '')) {
      return fail(`invalid duration ${shown} (expected e.g. "30s", "5m", "1h30m", "768h" or a number of seconds)`);
    }
    const unitNanos = UNIT_NANOS.get(unit);
    if (unitNanos === undefined) {
      return fail(`invalid duration ${shown}: unknown unit "${unit}" (use ns, us, ms, s, m or h; or "<n>d" for days)`);
    }
    let nanos = BigInt(whole === '' ? '0' : whole) * unitNanos;
    if (frac !== '') nanos += (BigInt(frac) * unitNanos) / 10n ** BigInt(frac.length);
    total += nanos;
    if (total > MAX_NANOS) return fail(`duration ${shown} is too large`);
    rest = rest.slice(m[0].length);
  }
  return fromNanos(total, shown);
}

/** Parse a Vault duration into whole seconds, or say what is wrong with it. */
export function tryParseDuration(input: unknown): DurationResult {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || !Number.isInteger(input)) {
      return fail(`duration ${String(input)} must be a whole number of seconds or a string such as "90s"`);
    }
    if (input < 0) return fail(`duration ${String(input)} must not be negative`);
    return fromNanos(BigInt(input) * NANOS_PER_SECOND, String(input));
  }
  if (typeof input !== 'string') {
    return fail(`a duration must be a number of seconds or a string such as "30s" or "768h"`);
  }
  const shown = JSON.stringify(input);
  if (/^[+-]?\d+$/.test(input)) {
    const value = BigInt(input);
    if (value < 0n) return fail(`duration ${shown} must not be negative`);
    return fromNanos(value * NANOS_PER_SECOND, shown);
  }
  const days = /^([+-]?\d+)d$/.exec(input);
  if (days?.[1] !== undefined) {
    const value = BigInt(days[1]);
    if (value < 0n) return fail(`duration ${shown} must not be negative`);
    return fromNanos(value * 86_400n * NANOS_PER_SECOND, shown);
  }
  return parseGoDuration(input);
}

/**
 * The lenient form request fields use: a duration in whole seconds, or undefined when it is not
 * one. An empty string is 0, as Vault reads an empty duration field.
 */
export function parseDurationSeconds(input: unknown): number | undefined {
  if (typeof input === 'string' && input.trim() === '') return 0;
  const r = tryParseDuration(typeof input === 'string' ? input.trim() : input);
  return 'seconds' in r ? r.seconds : undefined;
}
