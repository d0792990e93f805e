import { InvalidArgumentError } from 'commander';

// commander value parsers for the flags the Vault CLI spells the same way.

/** A whole number ≥ 0 (`--version`, `--cas`, `--use-limit`). */
export function wholeNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('Must be a whole number (0 or more).');
  return n;
}

/** A repeatable flag: every value, in order (`--policy a --policy b`). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** A repeatable `key=value` flag (`--metadata team=web`), into an object; a later key wins. */
export function collectKeyValue(value: string, previous: Record<string, string> | undefined): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`Expected key=value, got ${JSON.stringify(value)}.`);
  return { ...(previous ?? {}), [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** Go's strconv.ParseBool, for `--renewable=false` and friends. */
export function goBool(value: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw new InvalidArgumentError('Must be true or false.');
}

/** A comma-separated list flag that may also be repeated (`--versions 1,2 --versions 3`). */
export function collectList(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(',').map((v) => v.trim()).filter((v) => v !== '')];
}
