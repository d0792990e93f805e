import {
  constants, createCipheriv, createDecipheriv, createHmac, createPrivateKey, createPublicKey, generateKeyPair,
  privateDecrypt, publicEncrypt, randomBytes, type KeyObject,
} from 'node:crypto';
import { promisify } from 'node:util';
import { CofferError, invalid } from '../../util/errors.js';

/**
 * The key types of Vault's transit engine and what each can do. Everything here is a pure
 * function of key bytes: storage, versions and policy checks live in keys.ts and key.ts.
 */
export const KEY_TYPES = [
  'aes128-gcm96', 'aes256-gcm96', 'chacha20-poly1305', 'ed25519',
  'ecdsa-p256', 'ecdsa-p384', 'ecdsa-p521', 'rsa-2048', 'rsa-3072', 'rsa-4096', 'hmac',
] as const;
export type KeyType = (typeof KEY_TYPES)[number];

export const isKeyType = (t: string): t is KeyType => (KEY_TYPES as readonly string[]).includes(t);

type Aead = 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';

export interface TypeInfo {
  readonly encryption: boolean;
  readonly signing: boolean;
  readonly derivation: boolean;
  /** Signing hashes the input first (ECDSA, RSA); ed25519 signs the message itself. */
  readonly hashesInput: boolean;
  readonly aead?: { readonly cipher: Aead; readonly keyBytes: 16 | 32 };
  readonly curve?: { readonly name: 'P-256' | 'P-384' | 'P-521'; readonly bits: number };
  readonly rsaBits?: 2048 | 3072 | 4096;
}

const symmetric = (cipher: Aead, keyBytes: 16 | 32): TypeInfo => ({ encryption: true, signing: false, derivation: true, hashesInput: false, aead: { cipher, keyBytes } });
const ecdsa = (name: 'P-256' | 'P-384' | 'P-521', bits: number): TypeInfo => ({ encryption: false, signing: true, derivation: false, hashesInput: true, curve: { name, bits } });
const rsa = (rsaBits: 2048 | 3072 | 4096): TypeInfo => ({ encryption: true, signing: true, derivation: false, hashesInput: true, rsaBits });

export const TYPE_INFO: Readonly<Record<KeyType, TypeInfo>> = {
  'aes128-gcm96': symmetric('aes-128-gcm', 16),
  'aes256-gcm96': symmetric('aes-256-gcm', 32),
  'chacha20-poly1305': symmetric('chacha20-poly1305', 32),
  ed25519: { encryption: false, signing: true, derivation: true, hashesInput: false },
  'ecdsa-p256': ecdsa('P-256', 256),
  'ecdsa-p384': ecdsa('P-384', 384),
  'ecdsa-p521': ecdsa('P-521', 521),
  'rsa-2048': rsa(2048),
  'rsa-3072': rsa(3072),
  'rsa-4096': rsa(4096),
  hmac: { encryption: false, signing: false, derivation: false, hashesInput: false },
};

export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
/** Vault's bounds for the `hmac` key type's key_size, in bytes. */
export const HMAC_MIN_KEY = 32;
export const HMAC_MAX_KEY = 512;

/** One version of a key as stored (inside the barrier). Byte strings are base64. */
export interface StoredVersion {
  creation_time: string;
  /** Raw secret (symmetric, hmac, ed25519 seed‖public) or PKCS#8 DER (ecdsa, rsa). */
  key: string;
  /** Each version's independent HMAC key (the key itself for the hmac type). */
  hmac_key: string;
  /** As Vault shows it: PEM for ecdsa, base64 raw for ed25519; rsa's is derived from the key. */
  public_key?: string;
}

const generateKeyPairAsync = promisify(generateKeyPair);

/** Fresh key material for a new version. Asynchronous so RSA generation never blocks the loop. */
export async function generateVersion(type: KeyType, keySize: number, now: Date): Promise<StoredVersion> {
  const creation_time = now.toISOString();
  const info = TYPE_INFO[type];
  if (info.aead) return { creation_time, key: randomBytes(info.aead.keyBytes).toString('base64'), hmac_key: randomBytes(32).toString('base64') };
  if (type === 'hmac') {
    const key = randomBytes(keySize).toString('base64');
    return { creation_time, key, hmac_key: key };
  }
  const hmac_key = randomBytes(32).toString('base64');
  if (type === 'ed25519') {
    const { privateKey } = await generateKeyPairAsync('ed25519');
    const { seed, pub } = ed25519Parts(privateKey);
    return { creation_time, key: Buffer.concat([seed, pub]).toString('base64'), hmac_key, public_key: pub.toString('base64') };
  }
  if (info.curve) {
    const { privateKey, publicKey } = await generateKeyPairAsync('ec', { namedCurve: info.curve.name });
    return { creation_time, key: privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64'), hmac_key, public_key: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
  }
  const { privateKey } = await generateKeyPairAsync('rsa', { modulusLength: info.rsaBits ?? 2048, publicExponent: 65537 });
  return { creation_time, key: privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64'), hmac_key };
}

/** The parsed form of one version, built once per loaded key version. */
export interface Material {
  readonly secret: Buffer;
  readonly hmacKey: Buffer;
  readonly privateKey?: KeyObject;
  readonly publicKey?: KeyObject;
}

export function parseVersion(type: KeyType, v: StoredVersion): Material {
  const secret = Buffer.from(v.key, 'base64');
  const hmacKey = Buffer.from(v.hmac_key, 'base64');
  if (type === 'ed25519') {
    const privateKey = ed25519FromSeed(secret.subarray(0, 32));
    return { secret, hmacKey, privateKey, publicKey: createPublicKey(privateKey) };
  }
  if (TYPE_INFO[type].curve || TYPE_INFO[type].rsaBits) {
    const privateKey = createPrivateKey({ key: secret, format: 'der', type: 'pkcs8' });
    return { secret, hmacKey, privateKey, publicKey: createPublicKey(privateKey) };
  }
  return { secret, hmacKey };
}

// ---- derivation -------------------------------------------------------------------

/**
 * HKDF-SHA256 (RFC 5869) with an empty salt and the context as info, which is how Vault
 * derives per-context keys. Written out with HMAC because Node's hkdf caps info at 1024 bytes
 * and Vault does not cap contexts.
 */
export function hkdfSha256(ikm: Buffer, info: Buffer, length: number): Buffer {
  const prk = createHmac('sha256', Buffer.alloc(32)).update(ikm).digest();
  const blocks: Buffer[] = [];
  let prev = Buffer.alloc(0);
  for (let i = 1, have = 0; have < length; i++, have += 32) {
    prev = createHmac('sha256', prk).update(prev).update(info).update(Buffer.from([i])).digest();
    blocks.push(prev);
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** Vault seeds a derived ed25519 key with the first 32 HKDF bytes of (seed‖public, context). */
export function deriveEd25519(secret: Buffer, context: Buffer): { privateKey: KeyObject; publicKey: KeyObject; raw: Buffer } {
  const privateKey = ed25519FromSeed(hkdfSha256(secret, context, 32));
  return { privateKey, publicKey: createPublicKey(privateKey), raw: ed25519Parts(privateKey).pub };
}

const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

function ed25519FromSeed(seed: Buffer): KeyObject {
  return createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

function ed25519Parts(privateKey: KeyObject): { seed: Buffer; pub: Buffer } {
  const jwk = privateKey.export({ format: 'jwk' });
  if (typeof jwk.d !== 'string' || typeof jwk.x !== 'string') throw new CofferError('internal', 'ed25519 key has no JWK form');
  return { seed: Buffer.from(jwk.d, 'base64url'), pub: Buffer.from(jwk.x, 'base64url') };
}

// ---- encryption -------------------------------------------------------------------

/** nonce ‖ ciphertext ‖ tag, as Vault lays it out. */
// The ternaries in aeadSeal/aeadOpen only pick Node's typed overloads (GCM vs ChaCha20-Poly1305).
export function aeadSeal(cipher: Aead, key: Buffer, nonce: Buffer, plaintext: Buffer, aad: Buffer | undefined): Buffer {
  const c = cipher === 'chacha20-poly1305' ? createCipheriv(cipher, key, nonce, { authTagLength: TAG_BYTES }) : createCipheriv(cipher, key, nonce, { authTagLength: TAG_BYTES });
  if (aad && aad.length > 0) c.setAAD(aad, { plaintextLength: plaintext.length });
  const body = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([nonce, body, c.getAuthTag()]);
}

/** Opens nonce ‖ ciphertext ‖ tag; a bad tag is an error, never a plaintext. */
export function aeadOpen(cipher: Aead, key: Buffer, sealed: Buffer, aad: Buffer | undefined): Buffer {
  if (sealed.length < NONCE_BYTES) throw invalid('invalid ciphertext length');
  if (sealed.length < NONCE_BYTES + TAG_BYTES) throw invalid('cipher: message authentication failed');
  const nonce = sealed.subarray(0, NONCE_BYTES);
  const body = sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES);
  const d = cipher === 'chacha20-poly1305' ? createDecipheriv(cipher, key, nonce, { authTagLength: TAG_BYTES }) : createDecipheriv(cipher, key, nonce, { authTagLength: TAG_BYTES });
  d.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  if (aad && aad.length > 0) d.setAAD(aad, { plaintextLength: body.length });
  try {
    return Buffer.concat([d.update(body), d.final()]);
  } catch {
    throw invalid('cipher: message authentication failed');
  }
}

/**
 * Convergent encryption (Vault's version 3): the nonce is an HMAC of the plaintext under key
 * bytes derived with the context. With associated data the HMAC key is domain-separated and the
 * data is bound in too, so one plaintext under two different AADs never reuses a GCM nonce.
 */
export function convergentNonce(hmacKey: Buffer, plaintext: Buffer, aad: Buffer | undefined): Buffer {
  if (!aad || aad.length === 0) return createHmac('sha256', hmacKey).update(plaintext).digest().subarray(0, NONCE_BYTES);
  const aadKey = createHmac('sha256', hmacKey).update('coffer convergent nonce with associated data').digest();
  const len = Buffer.alloc(8);
  len.writeBigUInt64BE(BigInt(aad.length));
  return createHmac('sha256', aadKey).update(len).update(aad).update(plaintext).digest().subarray(0, NONCE_BYTES);
}

export function rsaEncrypt(publicKey: KeyObject, plaintext: Buffer): Buffer {
  try {
    return publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, plaintext);
  } catch {
    throw invalid('failed to RSA encrypt the plaintext: message too long for RSA key size');
  }
}

export function rsaDecrypt(privateKey: KeyObject, ciphertext: Buffer): Buffer {
  try {
    return privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, ciphertext);
  } catch {
    throw invalid('failed to RSA decrypt the ciphertext: decryption error');
  }
}

// ---- presentation -----------------------------------------------------------------

/** The public key as keys/:name shows it (Vault: PEM for ECDSA and RSA, base64 raw for ed25519). */
export function formatPublicKey(type: KeyType, v: StoredVersion, m: Material): string {
  if (type === 'ed25519' || TYPE_INFO[type].curve) return v.public_key ?? '';
  return m.publicKey ? m.publicKey.export({ type: 'spki', format: 'pem' }).toString() : '';
}

export type ExportType = 'encryption-key' | 'signing-key' | 'hmac-key' | 'public-key';
export type ExportFormat = '' | 'raw' | 'der' | 'pem';

/** One version's key in Vault's export encodings. */
export function exportKey(type: KeyType, m: Material, exportType: ExportType, format: ExportFormat): string {
  const info = TYPE_INFO[type];
  const rawOnly = (bytes: Buffer, what: string): string => {
    if (format === 'der' || format === 'pem') throw invalid(`unknown format for ${what}; supported values are \`\` or \`raw\``);
    return bytes.toString('base64');
  };
  const pkcs8 = (k: KeyObject): string => {
    const der = k.export({ type: 'pkcs8', format: 'der' });
    return format === 'der' ? der.toString('base64') : k.export({ type: 'pkcs8', format: 'pem' }).toString().trim();
  };
  const spki = (k: KeyObject, trim: boolean): string => {
    if (format === 'der') return k.export({ type: 'spki', format: 'der' }).toString('base64');
    const pem = k.export({ type: 'spki', format: 'pem' }).toString();
    return trim ? pem.trim() : pem;
  };
  const noRaw = (what: string): void => {
    if (format === 'raw') throw invalid(`unknown key format for ${what} key; supported values are \`\`, \`der\`, or \`pem\``);
  };

  if (exportType === 'hmac-key') return rawOnly(type === 'hmac' ? m.secret : m.hmacKey, 'HMAC key');
  if (info.aead && exportType === 'encryption-key') return rawOnly(m.secret, 'symmetric key');
  if (info.rsaBits && m.privateKey && m.publicKey && (exportType === 'encryption-key' || exportType === 'signing-key' || exportType === 'public-key')) {
    noRaw('rsa');
    if (exportType === 'public-key') return spki(m.publicKey, false);
    return format === '' ? m.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString() : format === 'der' ? pkcs8Der(m.privateKey) : m.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  }
  if (info.curve && m.privateKey && m.publicKey && (exportType === 'signing-key' || exportType === 'public-key')) {
    noRaw('ec');
    if (exportType === 'public-key') return spki(m.publicKey, true);
    return format === '' ? m.privateKey.export({ type: 'sec1', format: 'pem' }).toString().trim() : pkcs8(m.privateKey);
  }
  if (type === 'ed25519' && m.privateKey && m.publicKey && (exportType === 'signing-key' || exportType === 'public-key')) {
    if (exportType === 'public-key') return format === '' || format === 'raw' ? ed25519Parts(m.privateKey).pub.toString('base64') : spki(m.publicKey, true);
    return format === '' || format === 'raw' ? m.secret.toString('base64') : pkcs8(m.privateKey);
  }
  throw invalid(`unknown key type ${type} for export type ${exportType}`);
}

const pkcs8Der = (k: KeyObject): string => k.export({ type: 'pkcs8', format: 'der' }).toString('base64');
