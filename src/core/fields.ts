import * as z from 'zod';
import { parseDurationSeconds } from '../util/duration.js';

/**
 * Field types with Vault's leniency: clients send numbers as strings, booleans as "true",
 * lists as comma-separated strings, durations as "1h" or seconds. Their input is `unknown` to
 * zod, so each carries `.meta` with the JSON Schema type that OpenAPI shows.
 */
export const duration = () => z.unknown().transform((v, ctx) => {
  const s = parseDurationSeconds(v);
  if (s === undefined) {
    ctx.addIssue({ code: 'custom', message: 'must be a duration such as "30m" or a number of seconds' });
    return z.NEVER;
  }
  return s;
}).meta({ type: 'string', format: 'duration' });

export const bool = () => z.unknown().transform((v, ctx) => {
  if (typeof v === 'boolean') return v;
  if (v === 1 || v === 0) return v === 1;
  if (typeof v === 'string') {
    const l = v.trim().toLowerCase();
    if (['true', '1', 't'].includes(l)) return true;
    if (['false', '0', 'f', ''].includes(l)) return false;
  }
  ctx.addIssue({ code: 'custom', message: 'must be a boolean' });
  return z.NEVER;
}).meta({ type: 'boolean' });

export const int = () => z.unknown().transform((v, ctx) => {
  const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n === 'number' && Number.isSafeInteger(n)) return n;
  ctx.addIssue({ code: 'custom', message: 'must be an integer' });
  return z.NEVER;
}).meta({ type: 'integer' });

/** A finite number (Vault's float fields, such as a quota's `rate`), or a string holding one. */
export const number = () => z.unknown().transform((v, ctx) => {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n === 'number' && Number.isFinite(n)) return n;
  ctx.addIssue({ code: 'custom', message: 'must be a number' });
  return z.NEVER;
}).meta({ type: 'number' });

/** A list of strings, from an array or a comma-separated string; blanks dropped. */
export const strings = () => z.unknown().transform((v, ctx) => {
  const parts = typeof v === 'string' ? v.split(',') : Array.isArray(v) && v.every((x) => typeof x === 'string') ? v as string[] : undefined;
  if (!parts) {
    ctx.addIssue({ code: 'custom', message: 'must be a list of strings or a comma-separated string' });
    return z.NEVER;
  }
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}).meta({ type: 'array', items: { type: 'string' } });

/** A flat string map (Vault `meta`, `custom_metadata`). */
export const stringMap = () => z.record(z.string(), z.string());

/**
 * Vault's TypeKVPairs (token `meta`, entity `metadata`): a map whose values Go weakly decodes to
 * strings (numbers as written, booleans as "1"/"0", null as ""), or a list of "key=value"
 * strings (a single such string is a list of one). hvac and the Go client send maps.
 */
export const kvPairs = () => z.unknown().transform((v, ctx) => {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(v)) {
      const s = weakString(val);
      if (s === undefined) {
        ctx.addIssue({ code: 'custom', message: `value of "${k}" must be a string` });
        return z.NEVER;
      }
      out[k] = s;
    }
    return out;
  }
  const list = typeof v === 'string' ? [v] : v;
  if (Array.isArray(list) && list.every((x) => typeof x === 'string' && x.indexOf('=') > 0)) {
    return Object.fromEntries((list as string[]).map((x) => [x.slice(0, x.indexOf('=')), x.slice(x.indexOf('=') + 1)]));
  }
  ctx.addIssue({ code: 'custom', message: 'must be a map of strings or a list of "key=value" strings' });
  return z.NEVER;
}).meta({ type: 'object', additionalProperties: { type: 'string' } });

/** mapstructure's weak decoding of a scalar into a Go string. */
function weakString(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (v === null) return '';
  return undefined;
}

/** Formats zod issues as one caller-facing message naming the fields. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}
