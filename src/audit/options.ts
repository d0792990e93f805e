import { parseDurationSeconds } from '../util/duration.js';
import { invalid } from '../util/errors.js';

/** Options every device takes (Vault's common ones plus Coffer's checkpoint cadence). */
export interface CommonOptions {
  readonly prefix: string;
  readonly hmacAccessor: boolean;
  readonly logRaw: boolean;
  readonly elideListResponses: boolean;
  /** Vault's skip_test: enable without the probe write. */
  readonly skipTest: boolean;
  /** A checkpoint after this many entries... */
  readonly checkpointEntries: number;
  /** ...or after this long with entries since the last one. */
  readonly checkpointIntervalMs: number;
}

export const COMMON_OPTIONS = [
  'format', 'prefix', 'hmac_accessor', 'log_raw', 'elide_list_responses', 'skip_test', 'checkpoint_entries', 'checkpoint_interval',
] as const;

const DEFAULT_CHECKPOINT_ENTRIES = 1000;
const DEFAULT_CHECKPOINT_INTERVAL_S = 60;

export function parseCommonOptions(options: Readonly<Record<string, string>>): CommonOptions {
  const format = options['format'] ?? 'json';
  if (format !== 'json') throw invalid(`unknown format type "${format}": only "json" is supported`);
  const entries = optionalInt(options, 'checkpoint_entries') ?? DEFAULT_CHECKPOINT_ENTRIES;
  if (entries < 1 || entries > 1_000_000) throw invalid('checkpoint_entries must be between 1 and 1000000');
  const interval = optionalDuration(options, 'checkpoint_interval') ?? DEFAULT_CHECKPOINT_INTERVAL_S;
  if (interval < 1 || interval > 86_400) throw invalid('checkpoint_interval must be between 1s and 24h');
  return {
    prefix: options['prefix'] ?? '',
    hmacAccessor: optionalBool(options, 'hmac_accessor') ?? true,
    logRaw: optionalBool(options, 'log_raw') ?? false,
    elideListResponses: optionalBool(options, 'elide_list_responses') ?? false,
    skipTest: optionalBool(options, 'skip_test') ?? false,
    checkpointEntries: entries,
    checkpointIntervalMs: interval * 1000,
  };
}

/** Refuses option names no device knows: a typo (`file-path`) should not silently do nothing. */
export function assertKnownOptions(options: Readonly<Record<string, string>>, deviceOptions: readonly string[], type: string): void {
  const known = new Set<string>([...COMMON_OPTIONS, ...deviceOptions]);
  const unknown = Object.keys(options).filter((k) => !known.has(k)).sort();
  if (unknown.length > 0) {
    throw invalid(`unknown option(s) for a ${type} audit device: ${unknown.join(', ')} (known: ${[...known].sort().join(', ')})`);
  }
}

/** Go's strconv.ParseBool, which Vault uses for device options. */
export function optionalBool(options: Readonly<Record<string, string>>, name: string): boolean | undefined {
  const v = options[name];
  if (v === undefined) return undefined;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  throw invalid(`${name} must be a boolean, got ${JSON.stringify(v)}`);
}

export function optionalInt(options: Readonly<Record<string, string>>, name: string): number | undefined {
  const v = options[name];
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(Number(v))) throw invalid(`${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return Number(v);
}

/** Seconds, from "2s", "1m30s" or a bare number of seconds. */
export function optionalDuration(options: Readonly<Record<string, string>>, name: string): number | undefined {
  const v = options[name];
  if (v === undefined) return undefined;
  const s = parseDurationSeconds(v);
  if (s === undefined) throw invalid(`${name} must be a duration such as "2s", got ${JSON.stringify(v)}`);
  return s;
}

/** Milliseconds, accepting sub-second durations ("500ms") that parseDurationSeconds rounds away. */
export function optionalDurationMs(options: Readonly<Record<string, string>>, name: string): number | undefined {
  const v = options[name];
  if (v === undefined) return undefined;
  const ms = /^\s*(\d+)ms\s*$/.exec(v);
  if (ms) return Number(ms[1]);
  const s = optionalDuration(options, name);
  return s === undefined ? undefined : s * 1000;
}

/** Coerces the option values a client sent (hvac passes booleans and numbers) to Vault's strings. */
export function stringOptions(raw: unknown): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw invalid('options must be an object of string values');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    else if (k === 'headers' && typeof v === 'object' && v !== null) out[k] = JSON.stringify(v);
    else throw invalid(`option ${k} must be a string`);
  }
  return out;
}
