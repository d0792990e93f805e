import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { CofferError } from '../util/errors.js';

/** Record version 2: the storage path is the GCM additional data (as Vault's barrier v2). */
export const RECORD_VERSION = 2;
const NONCE = 12;
const TAG = 16;
export const HEADER = 4 + 1 + NONCE;

/** `[term u32 BE][version u8][nonce 12][ciphertext][tag 16]`, AES-256-GCM, `aad` authenticated. */
export function seal(key: Uint8Array, term: number, aad: string, plaintext: Uint8Array): Uint8Array {
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const out = Buffer.allocUnsafe(HEADER + plaintext.byteLength + TAG);
  out.writeUInt32BE(term, 0);
  out[4] = RECORD_VERSION;
  nonce.copy(out, 5);
  let n = HEADER;
  n += cipher.update(plaintext).copy(out, n);
  n += cipher.final().copy(out, n);
  cipher.getAuthTag().copy(out, n);
  return out;
}

/** The term a record was written under, or a 'tampered' error for a record too short to be one. */
export function recordTerm(record: Uint8Array, where: string): number {
  if (record.byteLength < HEADER + TAG) throw new CofferError('tampered', `stored record at ${where} is truncated`);
  if (record[4] !== RECORD_VERSION) throw new CofferError('tampered', `stored record at ${where} has an unknown version`);
  return Buffer.from(record.buffer, record.byteOffset, record.byteLength).readUInt32BE(0);
}

export function open(key: Uint8Array, aad: string, record: Uint8Array): Uint8Array {
  recordTerm(record, aad);
  const buf = Buffer.from(record.buffer, record.byteOffset, record.byteLength);
  const decipher = createDecipheriv('aes-256-gcm', key, buf.subarray(5, HEADER));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(buf.subarray(buf.byteLength - TAG));
  try {
    const head = decipher.update(buf.subarray(HEADER, buf.byteLength - TAG));
    const tail = decipher.final();
    return tail.byteLength === 0 ? head : Buffer.concat([head, tail]);
  } catch (cause) {
    throw new CofferError('tampered', `stored record at ${aad} failed authentication`, { cause });
  }
}
