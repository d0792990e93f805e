import * as z from 'zod';
import { invalid } from '../../util/errors.js';

/** A lease as stored in the barrier (`sys/expire/id/<lease id>`). Times are Unix ms. */
export const leaseRecordSchema = z.object({
  id: z.string(),
  /** The request path that issued the secret (the lease id without its random suffix). */
  path: z.string(),
  /** The issuing mount, by uuid: revocation reaches the backend even after a remount. */
  mountUuid: z.string(),
  namespace: z.string(),
  /** The token (its storage id) whose revocation revokes this lease; null when none. */
  tokenId: z.string().nullable(),
  issueTime: z.number(),
  expireTime: z.number(),
  lastRenewal: z.number().nullable(),
  /** Seconds the secret was issued for: what a renewal without an increment asks for. */
  ttl: z.number(),
  /** The role's cap in seconds (0 = the mount's max only). */
  maxTtl: z.number(),
  renewable: z.boolean(),
  internal: z.record(z.string(), z.unknown()),
  /** Set while revocation keeps failing: the lease stays, visible, and is retried. */
  revocation: z.object({
    attempts: z.number(),
    lastError: z.string(),
    lastAttempt: z.number(),
    nextAttempt: z.number(),
  }).nullable(),
});
export type LeaseRecord = z.infer<typeof leaseRecordSchema>;

/** When the manager next has to act on a lease: its expiry, or its next revocation attempt. */
export const dueTime = (r: LeaseRecord): number => (r.revocation ? r.revocation.nextAttempt : r.expireTime);

const MAX_LEASE_ID = 2048;

/**
 * Lease ids (and prefixes) come from callers: they are storage keys below `id/`, so they must
 * be plain relative paths (no empty, '.' or '..' segments) or storage would refuse them with a 500.
 */
export function checkLeaseId(id: string, what = 'lease_id'): string {
  if (id.length === 0) throw invalid(`${what} is required`);
  if (id.length > MAX_LEASE_ID || id.includes('\0') || id.startsWith('/') || id.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw invalid(`invalid ${what}`);
  }
  return id;
}

/** A prefix for revoke-prefix and LIST: '' (everything) or a lease-id-like path, with a trailing '/'. */
export function checkPrefix(prefix: string): string {
  const trimmed = prefix.replace(/\/+$/, '');
  if (trimmed === '') return '';
  return `${checkLeaseId(trimmed, 'prefix')}/`;
}

/** Lease ids hold '/', so the index keys carry them base64url-encoded, as one segment. */
export const encodeId = (id: string): string => Buffer.from(id, 'utf8').toString('base64url');
export const decodeId = (segment: string): string => Buffer.from(segment, 'base64url').toString('utf8');

const HOUR = 3_600_000;
const pad = (n: number, width: number): string => String(Math.max(0, Math.floor(n))).padStart(width, '0');

/**
 * The due index: `due/<hour>/<second>/<ms>/<ms>_<id>`. Sorted listing yields leases in due
 * order without reading a record, so a restart loads the soonest first; folders down to the
 * millisecond keep every listing small (SQLite lists synchronously), even when a quarter of a
 * million leases end in the same second.
 */
export function dueKey(time: number, id: string): string {
  return `due/${pad(time / HOUR, 8)}/${pad(time / 1000, 11)}/${pad(time % 1000, 3)}/${pad(time, 14)}_${encodeId(id)}`;
}

export function parseDueEntry(name: string): { time: number; id: string } | undefined {
  const m = /^(\d{14})_([A-Za-z0-9_-]+)$/.exec(name);
  return m ? { time: Number(m[1]), id: decodeId(m[2]!) } : undefined;
}

export const tokenIndexKey = (tokenId: string, leaseId: string): string => `token/${tokenId}/${encodeId(leaseId)}`;
export const recordKey = (id: string): string => `id/${id}`;
