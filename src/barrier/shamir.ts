import { createHash, timingSafeEqual } from 'node:crypto';
import { combine, split } from 'shamir-secret-sharing';
import { CofferError, invalid } from '../util/errors.js';

export const KEY_BYTES = 32;
/** A share is the y-bytes of every polynomial followed by its x coordinate. */
export const SHARE_BYTES = KEY_BYTES + 1;

export function validateShareCounts(shares: number, threshold: number): void {
  if (!Number.isInteger(shares) || shares < 1 || shares > 255) throw invalid('secret_shares must be between 1 and 255');
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > shares) throw invalid('secret_threshold must be between 1 and secret_shares');
  if (threshold === 1 && shares !== 1) throw invalid('secret_threshold must be greater than one for multiple shares');
  if (shares > 1 && threshold < 2) throw invalid('secret_threshold must be at least 2');
}

/** Splits the seal key; 1 of 1 returns the key itself, as Vault does. */
export async function splitKey(key: Uint8Array, shares: number, threshold: number): Promise<Uint8Array[]> {
  validateShareCounts(shares, threshold);
  if (shares === 1) return [new Uint8Array(key)];
  // The library insists on plain Uint8Arrays (a Buffer's constructor is not Uint8Array).
  return split(new Uint8Array(key), shares, threshold);
}

export async function combineShares(shares: Uint8Array[], threshold: number): Promise<Uint8Array> {
  if (threshold === 1) {
    const only = shares[0];
    if (!only || only.byteLength !== KEY_BYTES) throw invalid('unseal key has the wrong length');
    return only;
  }
  return combine(shares.map((s) => new Uint8Array(s)));
}

/** Parses a share the way Vault does: hex first, then base64. */
export function decodeShare(input: unknown, expectedBytes: number): Uint8Array {
  if (typeof input !== 'string' || input.length === 0) throw invalid("'key' must be a non-empty string");
  const trimmed = input.trim();
  let bytes: Buffer | undefined;
  if (/^[0-9a-fA-F]+$/.test(trimmed) && trimmed.length === expectedBytes * 2) bytes = Buffer.from(trimmed, 'hex');
  else if (/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) bytes = Buffer.from(trimmed, 'base64');
  if (!bytes || bytes.byteLength !== expectedBytes) {
    throw invalid(`'key' must be a valid hex or base64 unseal key of ${expectedBytes} bytes`);
  }
  return bytes;
}

/**
 * A digest of each share is kept so a wrong share is refused on its own, before the quorum is
 * reached. Shares are 256-bit random values, so the digest reveals nothing usable.
 */
export function shareDigest(share: Uint8Array): string {
  return createHash('sha256').update('coffer-share-check\0').update(share).digest('hex');
}

export function isKnownShare(share: Uint8Array, digests: readonly string[]): boolean {
  const d = Buffer.from(shareDigest(share), 'hex');
  let found = false;
  for (const known of digests) {
    const k = Buffer.from(known, 'hex');
    // No early exit: the time taken does not say which digest matched.
    if (k.byteLength === d.byteLength && timingSafeEqual(k, d)) found = true;
  }
  return found;
}

export function assertCombinable(shares: Uint8Array[]): void {
  const xs = new Set(shares.map((s) => s[s.byteLength - 1]));
  if (xs.size !== shares.length) throw new CofferError('invalid_request', 'duplicate unseal key share');
}
