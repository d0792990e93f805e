/**
 * Value converters for config keys. Each throws BadValue with a message that is shown after the
 * key; ./schema.ts turns them into zod fields.
 */
import { isIP } from 'node:net';
import { tryParseDuration } from '../util/duration.js';
import type { LogLevel } from './schema.js';
import { levelNamed } from '../util/logger.js';

export class BadValue extends Error {}

/** Short, single-line description of a value for an error message. */
export function describe(v: unknown): string {
  if (typeof v === 'string') {
    return v.length <= 64 && !/[\r\n]/.test(v) ? JSON.stringify(v) : 'a long string';
  }
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a block/object';
  return typeof v;
}

const TRUE_STRINGS = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const FALSE_STRINGS = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

/** Vault's `parseutil.ParseBool`: booleans, 1/0, and Go's strconv.ParseBool strings. */
export function toBool(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 1 || (typeof v === 'string' && TRUE_STRINGS.has(v))) return true;
  if (v === 0 || (typeof v === 'string' && FALSE_STRINGS.has(v))) return false;
  throw new BadValue(`expected a boolean (true/false, "true"/"false" or 1/0), got ${describe(v)}`);
}

export function toString(v: unknown): string {
  if (typeof v !== 'string') throw new BadValue(`expected a string, got ${describe(v)}`);
  return v;
}

export function toNonEmptyString(v: unknown): string {
  const s = toString(v);
  if (s.trim() === '') throw new BadValue('must not be empty');
  return s;
}

export function toDuration(v: unknown): number {
  const r = tryParseDuration(v);
  if ('problem' in r) throw new BadValue(r.problem);
  return r.seconds;
}

/** telemetry `usage_gauge_period`: a duration, or `"none"` (0) to never count. */
export function toUsageGaugePeriod(v: unknown): number {
  return v === 'none' ? 0 : toDuration(v);
}

/** Vault passes storage options around as strings, so `"128"` is as good as `128`. */
export function toPositiveInt(v: unknown): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) {
    throw new BadValue(`expected a whole number of at least 1, got ${describe(v)}`);
  }
  return n;
}

export function toLogLevel(v: unknown): LogLevel {
  const s = toString(v);
  const level = levelNamed(s);
  if (level === undefined) {
    throw new BadValue(`unknown log level ${describe(v)} (use trace, debug, info, warn or error)`);
  }
  return level;
}

export function toApiAddr(v: unknown): string | null {
  const s = toString(v);
  if (s === '') return null;
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw new BadValue(`${describe(v)} is not a URL (expected e.g. "https://coffer.example.com:8200")`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new BadValue(`${describe(v)} must be an http:// or https:// URL`);
  }
  return s;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** `host:port`, `[v6]:port` or `:port` (all IPv4 interfaces). Port 0 asks the OS for a free port. */
export function toAddress(v: unknown): { host: string; port: number } {
  const s = toString(v);
  const shown = describe(v);
  let host: string;
  let portText: string;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0 || s[end + 1] !== ':') throw new BadValue(`${shown} is not a valid address (expected e.g. "[::1]:8200")`);
    host = s.slice(1, end);
    portText = s.slice(end + 2);
    if (isIP(host) !== 6) throw new BadValue(`"${host}" in ${shown} is not an IPv6 address`);
  } else {
    const colon = s.lastIndexOf(':');
    if (colon < 0) throw new BadValue(`${shown} has no port (expected host:port, e.g. "127.0.0.1:8200")`);
    host = s.slice(0, colon);
    portText = s.slice(colon + 1);
    if (host.includes(':')) throw new BadValue(`${shown} is ambiguous: put IPv6 addresses in brackets, e.g. "[::1]:8200"`);
    if (host === '') host = '0.0.0.0';
    else if (isIP(host) === 0 && !HOSTNAME.test(host)) throw new BadValue(`"${host}" in ${shown} is not a valid host name or IP address`);
  }
  if (!/^\d+$/.test(portText)) throw new BadValue(`port "${portText}" in ${shown} is not a number`);
  const port = Number(portText);
  if (port > 65535) throw new BadValue(`port ${portText} in ${shown} is out of range (0-65535)`);
  return { host, port };
}

export function toTlsMinVersion(v: unknown): 'TLSv1.2' | 'TLSv1.3' {
  const s = toString(v);
  if (s === 'tls12') return 'TLSv1.2';
  if (s === 'tls13') return 'TLSv1.3';
  if (s === 'tls10' || s === 'tls11') throw new BadValue(`${describe(v)} is not allowed: TLS 1.2 is the minimum`);
  throw new BadValue(`unknown TLS version ${describe(v)} (use "tls12" or "tls13")`);
}

/** Never echoes the value: it carries a password. */
export function toConnectionUrl(v: unknown): string {
  if (typeof v !== 'string') throw new BadValue(`expected a string, got ${typeof v === 'object' ? describe(v) : typeof v}`);
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new BadValue('is not a URL (expected postgres://user:password@host:5432/database)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new BadValue('must be a postgres:// or postgresql:// URL');
  }
  return v;
}

/** Table names are put into SQL, so only plain (optionally schema-qualified) identifiers. */
export function toTableName(v: unknown): string {
  const s = toString(v);
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}(?:\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/.test(s)) {
    throw new BadValue(`${describe(v)} is not a valid table name (letters, digits and _, optionally schema.table)`);
  }
  return s;
}

export function toSynchronous(v: unknown): 'full' | 'normal' {
  const s = toString(v).toLowerCase();
  if (s !== 'full' && s !== 'normal') throw new BadValue(`expected "full" or "normal", got ${describe(v)}`);
  return s;
}
