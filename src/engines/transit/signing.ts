import { constants, createHash, privateEncrypt, publicDecrypt, randomBytes, sign, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import { invalid, isCofferError } from '../../util/errors.js';
import { TYPE_INFO, type KeyType } from './key-types.js';

/** Vault's hash names and Node's. `none` exists only for prehashed PKCS#1 v1.5 without a DigestInfo. */
const NODE_HASH = {
  sha1: 'sha1',
  'sha2-224': 'sha224', 'sha2-256': 'sha256', 'sha2-384': 'sha384', 'sha2-512': 'sha512',
  'sha3-224': 'sha3-224', 'sha3-256': 'sha3-256', 'sha3-384': 'sha3-384', 'sha3-512': 'sha3-512',
  none: '',
} as const;
export type HashAlgorithm = keyof typeof NODE_HASH;

export const isHashAlgorithm = (s: string): s is HashAlgorithm => Object.hasOwn(NODE_HASH, s);
/** What the hash and hmac endpoints accept. */
export const DIGEST_ALGORITHMS: readonly HashAlgorithm[] = ['sha2-224', 'sha2-256', 'sha2-384', 'sha2-512', 'sha3-224', 'sha3-256', 'sha3-384', 'sha3-512'];
export const HMAC_ALGORITHMS: readonly HashAlgorithm[] = ['sha1', ...DIGEST_ALGORITHMS];

export const nodeHash = (h: Exclude<HashAlgorithm, 'none'>): string => NODE_HASH[h];

export function digest(h: Exclude<HashAlgorithm, 'none'>, data: Buffer): Buffer {
  return createHash(NODE_HASH[h]).update(data).digest();
}

export interface SignOptions {
  readonly hash: HashAlgorithm;
  readonly prehashed: boolean;
  readonly signatureAlgorithm: 'pss' | 'pkcs1v15';
  readonly marshaling: 'asn1' | 'jws';
  /** 'auto' is as long as possible when signing and detected when verifying, as in Go. */
  readonly saltLength: 'auto' | 'hash' | number;
}

/** DER DigestInfo prefixes (RFC 8017 §9.2 note 1, plus SHA-3 from NIST's OID arc). */
const DIGEST_INFO: Readonly<Record<Exclude<HashAlgorithm, 'none'>, string>> = {
  sha1: '3021300906052b0e03021a05000414',
  'sha2-224': '302d300d06096086480165030402040500041c',
  'sha2-256': '3031300d060960864801650304020105000420',
  'sha2-384': '3041300d060960864801650304020205000430',
  'sha2-512': '3051300d060960864801650304020305000440',
  'sha3-224': '302d300d06096086480165030402070500041c',
  'sha3-256': '3031300d060960864801650304020805000420',
  'sha3-384': '3041300d060960864801650304020905000430',
  'sha3-512': '3051300d060960864801650304020a05000440',
};

const hashLength = (h: Exclude<HashAlgorithm, 'none'>): number => createHash(NODE_HASH[h]).digest().length;

/** A raw signature over `input` (the message, or its digest when prehashed). */
export function signRaw(type: KeyType, key: KeyObject, input: Buffer, o: SignOptions): Buffer {
  const info = TYPE_INFO[type];
  if (type === 'ed25519') return sign(null, input, key);
  if (info.curve) {
    if (o.prehashed || o.hash === 'none') throw invalid('prehashed input is not supported for ECDSA keys');
    return sign(NODE_HASH[o.hash], input, { key, dsaEncoding: o.marshaling === 'jws' ? 'ieee-p1363' : 'der' });
  }
  const bits = info.rsaBits ?? 2048;
  if (o.signatureAlgorithm === 'pkcs1v15') {
    if (o.hash === 'none') return privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, input);
    if (o.prehashed) return privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, digestInfo(o.hash, input));
    return sign(NODE_HASH[o.hash], input, { key, padding: constants.RSA_PKCS1_PADDING });
  }
  if (o.hash === 'none') throw invalid('hash_algorithm=none requires both prehashed=true and signature_algorithm=pkcs1v15');
  const saltLength = pssSaltForSigning(bits, o.hash, o.saltLength);
  if (o.prehashed) return privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, emsaPssEncode(o.hash, checkDigest(o.hash, input), bits, saltLength));
  return sign(NODE_HASH[o.hash], input, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength });
}

/** Whether `signature` is valid; malformed signatures are simply not valid. */
export function verifyRaw(type: KeyType, key: KeyObject, input: Buffer, signature: Buffer, o: SignOptions): boolean {
  const info = TYPE_INFO[type];
  try {
    if (type === 'ed25519') return verify(null, input, key, signature);
    if (info.curve) {
      if (o.prehashed || o.hash === 'none') throw invalid('prehashed input is not supported for ECDSA keys');
      if (o.marshaling === 'asn1') return verify(NODE_HASH[o.hash], input, key, signature);
      const p1363 = fixedWidth(signature, Math.ceil(info.curve.bits / 8));
      return p1363 !== undefined && verify(NODE_HASH[o.hash], input, { key, dsaEncoding: 'ieee-p1363' }, p1363);
    }
    const bits = info.rsaBits ?? 2048;
    if (o.signatureAlgorithm === 'pkcs1v15') {
      if (!o.prehashed && o.hash !== 'none') return verify(NODE_HASH[o.hash], input, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
      const expected = o.hash === 'none' ? input : digestInfo(o.hash, input);
      const got = publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, signature);
      return got.length === expected.length && timingSafeEqual(got, expected);
    }
    if (o.hash === 'none') throw invalid('hash_algorithm=none requires both prehashed=true and signature_algorithm=pkcs1v15');
    const saltLength = o.saltLength === 'auto' ? constants.RSA_PSS_SALTLEN_AUTO : pssSaltForSigning(bits, o.hash, o.saltLength);
    if (!o.prehashed) return verify(NODE_HASH[o.hash], input, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }, signature);
    if (signature.length !== Math.ceil(bits / 8)) return false;
    return emsaPssVerify(o.hash, checkDigest(o.hash, input), publicDecrypt({ key, padding: constants.RSA_NO_PADDING }, signature), bits, o.saltLength);
  } catch (e) {
    if (isCofferError(e)) throw e;
    return false;
  }
}

function checkDigest(h: Exclude<HashAlgorithm, 'none'>, input: Buffer): Buffer {
  if (input.length !== hashLength(h)) throw invalid(`prehashed input must be a ${h} digest (${hashLength(h)} bytes), got ${input.length} bytes`);
  return input;
}

function digestInfo(h: Exclude<HashAlgorithm, 'none'>, input: Buffer): Buffer {
  return Buffer.concat([Buffer.from(DIGEST_INFO[h], 'hex'), checkDigest(h, input)]);
}

/** Go's bounds: a PSS salt is between the hash length's "equals hash" marker and emLen - hLen - 2. */
function pssSaltForSigning(bits: number, h: Exclude<HashAlgorithm, 'none'>, salt: 'auto' | 'hash' | number): number {
  const max = Math.ceil((bits - 1) / 8) - 2 - hashLength(h);
  if (salt === 'auto') return max;
  if (salt === 'hash') return hashLength(h);
  if (salt < 0 || salt > max) throw invalid(`requested salt length ${salt} is invalid`);
  return salt;
}

function fixedWidth(sig: Buffer, width: number): Buffer | undefined {
  if (sig.length % 2 !== 0 || sig.length / 2 > width) return undefined;
  const half = sig.length / 2;
  const out = Buffer.alloc(width * 2);
  sig.copy(out, width - half, 0, half);
  sig.copy(out, 2 * width - half, half);
  return out;
}

// ---- EMSA-PSS for prehashed input (RFC 8017 §9.1); the RSA operation itself stays OpenSSL's ----

function mgf1(h: Exclude<HashAlgorithm, 'none'>, seed: Buffer, length: number): Buffer {
  const parts: Buffer[] = [];
  for (let counter = 0, have = 0; have < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    const block = createHash(NODE_HASH[h]).update(seed).update(c).digest();
    parts.push(block);
    have += block.length;
  }
  return Buffer.concat(parts).subarray(0, length);
}

function emsaPssEncode(h: Exclude<HashAlgorithm, 'none'>, mHash: Buffer, bits: number, sLen: number): Buffer {
  const emBits = bits - 1;
  const emLen = Math.ceil(emBits / 8);
  const hLen = mHash.length;
  const salt = randomBytes(sLen);
  const H = createHash(NODE_HASH[h]).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  const db = Buffer.concat([Buffer.alloc(emLen - sLen - hLen - 2), Buffer.from([1]), salt]);
  const mask = mgf1(h, H, db.length);
  for (let i = 0; i < db.length; i++) db[i] = db[i]! ^ mask[i]!;
  db[0] = db[0]! & (0xff >> (8 * emLen - emBits));
  const em = Buffer.concat([db, H, Buffer.from([0xbc])]);
  const k = Math.ceil(bits / 8);
  return em.length === k ? em : Buffer.concat([Buffer.alloc(k - em.length), em]);
}

function emsaPssVerify(h: Exclude<HashAlgorithm, 'none'>, mHash: Buffer, decoded: Buffer, bits: number, salt: 'auto' | 'hash' | number): boolean {
  const emBits = bits - 1;
  const emLen = Math.ceil(emBits / 8);
  const hLen = mHash.length;
  if (decoded.length < emLen) return false;
  if (decoded.subarray(0, decoded.length - emLen).some((b) => b !== 0)) return false;
  const em = decoded.subarray(decoded.length - emLen);
  if (em[emLen - 1] !== 0xbc || emLen < hLen + 2) return false;
  const db = Buffer.from(em.subarray(0, emLen - hLen - 1));
  const H = em.subarray(emLen - hLen - 1, emLen - 1);
  const topMask = 0xff >> (8 * emLen - emBits);
  if ((db[0]! & ~topMask) !== 0) return false;
  const mask = mgf1(h, H, db.length);
  for (let i = 0; i < db.length; i++) db[i] = db[i]! ^ mask[i]!;
  db[0] = db[0]! & topMask;
  const one = db.indexOf(1);
  if (one < 0 || db.subarray(0, one).some((b) => b !== 0)) return false;
  const sLen = db.length - one - 1;
  const wanted = salt === 'auto' ? sLen : salt === 'hash' ? hLen : salt;
  if (sLen !== wanted) return false;
  const H2 = createHash(NODE_HASH[h]).update(Buffer.alloc(8)).update(mHash).update(db.subarray(one + 1)).digest();
  return timingSafeEqual(H, H2);
}
