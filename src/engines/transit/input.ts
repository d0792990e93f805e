import * as z from 'zod';
import { CofferError, invalid, isCofferError } from '../../util/errors.js';

/**
 * Request-input helpers for the transit paths: Vault's strict base64, the batch_input list and
 * the per-item error bookkeeping that decides a batch's HTTP status.
 */

/** A string field that, like Vault's TypeString, also takes a number or boolean. */
export const text = () => z.unknown().transform((v, ctx) => {
  if (v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  ctx.addIssue({ code: 'custom', message: 'must be a string' });
  return z.NEVER;
}).meta({ type: 'string' });

/** batch_input: checked item by item by the handlers (see batchItems). */
export const batchInput = () => z.unknown().meta({ type: 'array', items: { type: 'object' } });

/** Go's base64.StdEncoding: padded, no stray characters (CR and LF are skipped). */
export function decodeBase64(input: string, what = ''): Buffer {
  const s = input.replace(/[\r\n]/g, '');
  const fail = (at: number): CofferError => invalid(`${what}illegal base64 data at input byte ${at}`);
  const bad = s.search(/[^A-Za-z0-9+/=]/);
  if (bad >= 0) throw fail(bad);
  const pad = s.indexOf('=');
  const data = pad < 0 ? s.length : pad;
  if (pad >= 0 && (!/^={1,2}$/.test(s.slice(pad)) || (s.length - pad === 1 ? data % 4 !== 3 : data % 4 !== 2))) throw fail(pad);
  if (s.length % 4 !== 0) throw fail(data - (data % 4));
  return Buffer.from(s, 'base64');
}

/** Context (and associated data) is optional: empty means "not given". */
export const optionalBase64 = (s: string | undefined, what: string): Buffer | undefined =>
  s === undefined || s === '' ? undefined : decodeBase64(s, what);

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * batch_input as a list of objects, or undefined when the request has none. A malformed list
 * fails the whole request, as in Vault; a bad value inside an item fails only that item.
 */
export function batchItems(raw: unknown): Record<string, unknown>[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) throw invalid('failed to parse batch input: batch_input must be a list of objects');
  if (raw.length === 0) throw invalid('missing batch input to process');
  return raw.map((item, i) => {
    if (!isRecord(item)) throw invalid(`failed to parse batch input: [${i}] expected a map`);
    return item;
  });
}

/** A string member of a batch item; a non-string value fails the whole request. */
export function itemString(item: Record<string, unknown>, key: string, index: number): string | undefined {
  const v = item[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw invalid(`failed to parse batch input: '[${index}].${key}' expected type 'string'`);
}

export function itemInt(item: Record<string, unknown>, key: string, index: number): number {
  const v = item[key];
  if (v === undefined || v === null) return 0;
  const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n === 'number' && Number.isSafeInteger(n)) return n;
  throw invalid(`failed to parse batch input: '[${index}].${key}' expected type 'int'`);
}

export type ItemOutcome<T> = { ok: true; value: T } | { ok: false; error: string; internal: boolean };

/** Runs one batch item: a caller mistake becomes that item's error; nothing leaks an internal message. */
export function attempt<T>(fn: () => T): ItemOutcome<T> {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    if (isCofferError(e) && e.code === 'invalid_request') return { ok: false, error: e.message, internal: false };
    return { ok: false, error: 'internal error', internal: true };
  }
}

export async function attemptAsync<T>(fn: () => Promise<T>): Promise<ItemOutcome<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    if (isCofferError(e) && e.code === 'invalid_request') return { ok: false, error: e.message, internal: false };
    return { ok: false, error: 'internal error', internal: true };
  }
}

/** Rethrows a single (non-batch) item's failure as the request's error. */
export function unwrapSingle<T>(o: ItemOutcome<T>): T {
  if (o.ok) return o.value;
  throw new CofferError(o.internal ? 'internal' : 'invalid_request', o.error);
}

/**
 * Vault's status for encrypt and decrypt batches: 400 if any item failed on its input, else 500
 * if any failed inside; `partial_failure_response_code` replaces it when some items succeeded.
 */
export function batchStatus(outcomes: readonly ItemOutcome<unknown>[], partialCode: number | undefined): { status?: number; warning?: string } {
  const user = outcomes.some((o) => !o.ok && !o.internal);
  const internal = outcomes.some((o) => !o.ok && o.internal);
  if (!user && !internal) return {};
  const status = user ? 400 : 500;
  if (partialCode === undefined || !outcomes.some((o) => o.ok)) return { status };
  if (partialCode < 1 || partialCode > 599) return { status, warning: `invalid HTTP response code override from partial_failure_response_code, reverting to ${status}` };
  return { status: partialCode };
}
