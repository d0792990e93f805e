import { createHmac, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { CofferError, invalid } from '../../util/errors.js';
import {
  NONCE_BYTES, TYPE_INFO, aeadOpen, aeadSeal, convergentNonce, deriveEd25519, hkdfSha256, parseVersion, rsaDecrypt, rsaEncrypt,
  type KeyType, type Material, type TypeInfo,
} from './key-types.js';
import type { KeyRecord } from './keys.js';
import { decodeBase64 } from './input.js';
import { nodeHash, signRaw, verifyRaw, type HashAlgorithm, type SignOptions } from './signing.js';

/** Vault's message when a version is below min_decryption_version. */
export const ERR_TOO_OLD = 'ciphertext or signature version is disallowed by policy (too old)';
const MISSING_CONTEXT = "missing 'context' for key derivation; the key was created using a derived key, which means additional, per-request information must be included in order to perform operations with the key";

const prefix = (version: number): string => `vault:v${version}:`;

/**
 * One loaded key: an immutable record plus its parsed material, with the operations and the
 * version rules Vault applies to them. Material is parsed once per version and kept.
 */
export class Key {
  readonly record: KeyRecord;
  readonly #material = new Map<number, Material>();

  constructor(record: KeyRecord) {
    this.record = record;
  }

  get type(): KeyType { return this.record.type; }
  get info(): TypeInfo { return TYPE_INFO[this.record.type]; }

  /** Versions Vault keeps "live": min_decryption_version..latest (older ones are archived there). */
  liveVersions(): number[] {
    return Object.keys(this.record.versions).map(Number).filter((v) => v >= this.record.min_decryption_version).sort((a, b) => a - b);
  }

  material(version: number): Material {
    const cached = this.#material.get(version);
    if (cached) return cached;
    const stored = this.record.versions[String(version)];
    if (!stored || version < this.record.min_decryption_version) throw invalid('no such key version');
    const m = parseVersion(this.record.type, stored);
    this.#material.set(version, m);
    return m;
  }

  // ---- encryption ----------------------------------------------------------------

  encrypt(plaintext: Buffer, o: { context: Buffer | undefined; keyVersion: number; aad: Buffer | undefined }): { ciphertext: string; version: number } {
    if (!this.info.encryption) throw invalid(`message encryption not supported for key type ${this.type}`);
    const version = this.#encryptionVersion(o.keyVersion, 'encryption');
    const m = this.material(version);
    let body: Buffer;
    if (this.info.aead) {
      const { cipher, keyBytes } = this.info.aead;
      const convergent = this.record.convergent_encryption;
      const keyMaterial = this.#symmetricKey(m, o.context, keyBytes + (convergent ? 32 : 0));
      const encKey = keyMaterial.subarray(0, keyBytes);
      const nonce = convergent ? convergentNonce(keyMaterial.subarray(keyBytes), plaintext, o.aad) : randomBytes(NONCE_BYTES);
      body = aeadSeal(cipher, encKey, nonce, plaintext, o.aad);
    } else {
      if (o.aad) throw invalid(`associated_data provided for non-AEAD cipher suite ${this.type}`);
      body = rsaEncrypt(this.#publicKey(m), plaintext);
    }
    return { ciphertext: prefix(version) + body.toString('base64'), version };
  }

  decrypt(ciphertext: string, o: { context: Buffer | undefined; aad: Buffer | undefined }): Buffer {
    if (!this.info.encryption) throw invalid(`message decryption not supported for key type ${this.type}`);
    const { version, body } = this.#parseVersioned(ciphertext, 'ciphertext');
    const decoded = decodeBase64Quiet(body, 'invalid ciphertext: could not decode base64');
    const m = this.material(version);
    if (this.info.aead) return aeadOpen(this.info.aead.cipher, this.#symmetricKey(m, o.context, this.info.aead.keyBytes), decoded, o.aad);
    if (o.aad) throw invalid(`associated_data provided for non-AEAD cipher suite ${this.type}`);
    if (!m.privateKey) throw new CofferError('internal', 'RSA key version has no private key');
    return rsaDecrypt(m.privateKey, decoded);
  }

  // ---- signatures and HMACs --------------------------------------------------------

  sign(input: Buffer, o: { keyVersion: number; context: Buffer | undefined; options: SignOptions }): { signature: string; version: number; publicKey?: Buffer } {
    if (!this.info.signing) throw invalid(`key type ${this.type} does not support signing`);
    const version = this.#encryptionVersion(o.keyVersion, 'signing');
    const m = this.material(version);
    let key = m.privateKey;
    let publicKey: Buffer | undefined;
    if (this.record.derived) {
      const derived = deriveEd25519(m.secret, this.#requireContext(o.context));
      key = derived.privateKey;
      publicKey = derived.raw;
    }
    if (!key) throw new CofferError('internal', 'key version has no private key');
    const raw = signRaw(this.type, key, input, o.options);
    const encoded = o.options.marshaling === 'jws' ? raw.toString('base64url') : raw.toString('base64');
    return { signature: prefix(version) + encoded, version, ...(publicKey ? { publicKey } : {}) };
  }

  verify(input: Buffer, signature: string, o: { context: Buffer | undefined; options: SignOptions }): boolean {
    if (!this.info.signing) throw invalid(`key type ${this.type} does not support verification`);
    const { version, body } = this.#parseVersioned(signature, 'signature');
    const raw = o.options.marshaling === 'jws'
      ? (/^[A-Za-z0-9_-]*$/.test(body) ? Buffer.from(body, 'base64url') : undefined)
      : decodeBase64Quiet(body, 'invalid base64 signature value');
    if (!raw) throw invalid('invalid base64 signature value');
    const m = this.material(version);
    let key: KeyObject | undefined = m.publicKey;
    if (this.record.derived) key = deriveEd25519(m.secret, this.#requireContext(o.context)).publicKey;
    if (!key) throw new CofferError('internal', 'key version has no public key');
    return verifyRaw(this.type, key, input, raw, o.options);
  }

  /** The version an HMAC is made with: 0 is the latest, never below min_encryption_version. */
  hmacVersion(requested: number): number {
    let version = requested;
    if (version === 0) version = this.record.latest_version;
    else if (version < 0) throw invalid('key version does not exist (cannot be negative)');
    else if (version > this.record.latest_version) throw invalid(`key version does not exist; latest key version is ${this.record.latest_version}`);
    else if (this.record.min_encryption_version > 0 && version < this.record.min_encryption_version) throw invalid('cannot generate HMAC: version is too old (disallowed by policy)');
    this.material(version);
    return version;
  }

  /** `version` comes from hmacVersion. */
  hmac(input: Buffer, version: number, algorithm: Exclude<HashAlgorithm, 'none'>): string {
    return prefix(version) + this.#hmacBytes(version, input, algorithm).toString('base64');
  }

  verifyHmac(input: Buffer, hmac: string, algorithm: Exclude<HashAlgorithm, 'none'>): boolean {
    if (!hmac.startsWith('vault:v')) throw invalid('invalid HMAC to verify: no prefix');
    const rest = hmac.slice('vault:v'.length);
    const colon = rest.indexOf(':');
    if (colon < 0) throw invalid('invalid HMAC: wrong number of fields');
    const version = parseVersionNumber(rest.slice(0, colon));
    if (version === undefined) throw invalid('invalid HMAC: version number could not be decoded');
    const given = decodeBase64(rest.slice(colon + 1), 'unable to decode verification HMAC as base64: ');
    if (version > this.record.latest_version) throw invalid('invalid HMAC: version is too new');
    if (version < this.record.min_decryption_version) throw invalid('cannot verify HMAC: version is too old (disallowed by policy)');
    const expected = this.#hmacBytes(version, input, algorithm);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** The public key of a derived ed25519 key for one context (keys/:name?context=...). */
  derivedPublicKey(version: number, context: Buffer): string {
    return deriveEd25519(this.material(version).secret, context).raw.toString('base64');
  }

  // ---- rules ---------------------------------------------------------------------

  #hmacBytes(version: number, input: Buffer, algorithm: Exclude<HashAlgorithm, 'none'>): Buffer {
    const m = this.material(version);
    return createHmac(nodeHash(algorithm), this.type === 'hmac' ? m.secret : m.hmacKey).update(input).digest();
  }

  /** Vault's choice of version for encrypting and signing: 0 is the latest, never below min_encryption_version. */
  #encryptionVersion(requested: number, what: 'encryption' | 'signing'): number {
    if (requested === 0) return this.record.latest_version;
    if (requested < 0) throw invalid(`requested version for ${what} is negative`);
    if (requested > this.record.latest_version) throw invalid(`requested version for ${what} is higher than the latest key version`);
    if (requested < this.record.min_encryption_version) throw invalid(`requested version for ${what} is less than the minimum encryption key version`);
    return requested;
  }

  #parseVersioned(value: string, what: 'ciphertext' | 'signature'): { version: number; body: string } {
    if (!value.startsWith('vault:v')) throw invalid(`invalid ${what}: no prefix`);
    const rest = value.slice('vault:v'.length);
    const colon = rest.indexOf(':');
    if (colon < 0) throw invalid(`invalid ${what}: wrong number of fields`);
    let version = parseVersionNumber(rest.slice(0, colon));
    if (version === undefined) throw invalid(`invalid ${what}: version number could not be decoded`);
    // Vault's first keys were numbered from 0.
    if (version === 0 && what === 'ciphertext') version = 1;
    if (version > this.record.latest_version) throw invalid(`invalid ${what}: version is too new`);
    if (version < this.record.min_decryption_version) throw invalid(ERR_TOO_OLD);
    return { version, body: rest.slice(colon + 1) };
  }

  #requireContext(context: Buffer | undefined): Buffer {
    if (!context || context.length === 0) throw invalid(MISSING_CONTEXT);
    return context;
  }

  /** The version's key, or the key derived for the context when the key is derived. */
  #symmetricKey(m: Material, context: Buffer | undefined, length: number): Buffer {
    if (!this.record.derived) return m.secret;
    return hkdfSha256(m.secret, this.#requireContext(context), length);
  }

  #publicKey(m: Material): KeyObject {
    if (!m.publicKey) throw new CofferError('internal', 'key version has no public key');
    return m.publicKey;
  }
}

function parseVersionNumber(s: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

function decodeBase64Quiet(body: string, message: string): Buffer {
  try {
    return decodeBase64(body);
  } catch {
    throw invalid(message);
  }
}
