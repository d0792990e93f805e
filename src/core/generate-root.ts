import { randomUUID } from 'node:crypto';
import { TOKEN_PREFIX } from './tokens/entry.js';
import { randomBase62 } from '../util/random.js';
import { invalid } from '../util/errors.js';

/** Random characters after the prefix in a service token (TokenStore.create). */
const TOKEN_RANDOM_LENGTH = 24;
/** The OTP is XORed byte for byte with the new root token, so both have this length (Vault: TokenLength + TokenPrefixLength). */
export const ROOT_OTP_LENGTH = TOKEN_PREFIX.service.length + TOKEN_RANDOM_LENGTH;

/** The wire body of `sys/generate-root/attempt` and `sys/generate-root/update` (Vault's GenerateRootStatusResponse). */
export interface GenerateRootStatus {
  started: boolean; nonce: string; progress: number; required: number; complete: boolean;
  encoded_token: string; encoded_root_token: string; pgp_fingerprint: string; otp: string; otp_length: number;
}

/** What a root generation needs from the seal: share checks, the quorum proof and a way to mint the token. */
export interface RootGenerationDeps {
  /** The unseal threshold; throws when sealed or uninitialized. */
  threshold(): number;
  /** Decodes a submitted key and checks it is one of this server's shares (throws a 400 otherwise). */
  checkShare(key: unknown): Promise<Uint8Array>;
  /** Combines the shares and decrypts the root key with the result: proves the quorum or throws. */
  proveQuorum(shares: Uint8Array[]): Promise<void>;
  /** Creates a new root token (orphan, policies [root], no TTL). */
  createRootToken(): Promise<string>;
}

interface Attempt { nonce: string; otp: string; progress: Uint8Array[] }

/**
 * Vault's `operator generate-root`: holders of a quorum of unseal keys obtain a new root token,
 * handed out XORed with a one-time pad the initiator chose (or got back from the init call).
 * The attempt lives in memory only, like Vault's; a seal discards it.
 */
export class RootGeneration {
  readonly #deps: RootGenerationDeps;
  #attempt: Attempt | null = null;

  constructor(deps: RootGenerationDeps) {
    this.#deps = deps;
  }

  /** `otp` is only filled right after init when the server generated it: the one time it is shown. */
  status(otp = ''): GenerateRootStatus {
    const required = this.#deps.threshold();
    const a = this.#attempt;
    return {
      started: a !== null, nonce: a?.nonce ?? '', progress: a?.progress.length ?? 0, required, complete: false,
      encoded_token: '', encoded_root_token: '', pgp_fingerprint: '', otp, otp_length: ROOT_OTP_LENGTH,
    };
  }

  /** Starts an attempt with the caller's OTP, or a generated one that the returned status carries. */
  init(otp: unknown, pgpKey: unknown): GenerateRootStatus {
    this.#deps.threshold();
    if (pgpKey !== undefined && pgpKey !== null && pgpKey !== '') throw invalid('pgp_key is not supported yet: use an OTP');
    if (otp !== undefined && otp !== null && typeof otp !== 'string') throw invalid('otp must be a string');
    const given = typeof otp === 'string' && otp !== '';
    // Go's len() counts bytes, and the XOR runs over bytes, so the length check does too.
    if (given && Buffer.byteLength(otp, 'utf8') !== ROOT_OTP_LENGTH) throw invalid('OTP string is wrong length');
    if (this.#attempt) throw invalid('root generation already in progress');
    const pad = given ? otp : randomBase62(ROOT_OTP_LENGTH);
    this.#attempt = { nonce: randomUUID(), otp: pad, progress: [] };
    return this.status(given ? '' : pad);
  }

  cancel(): void {
    this.#deps.threshold();
    this.#attempt = null;
  }

  /** Forgets the attempt without the unsealed check (the seal is closing). */
  reset(): void {
    this.#attempt = null;
  }

  /** Adds one unseal key; at the quorum, creates the root token and returns it encoded. Callers serialize. */
  async update(key: unknown, nonce: unknown): Promise<GenerateRootStatus> {
    const required = this.#deps.threshold();
    const a = this.#attempt;
    if (!a) throw invalid('no root generation in progress');
    if (typeof nonce !== 'string' || nonce !== a.nonce) {
      throw invalid(`incorrect nonce supplied; nonce for this root generation operation is "${a.nonce}"`);
    }
    const share = await this.#deps.checkShare(key);
    if (a.progress.some((p) => Buffer.compare(p, share) === 0)) {
      throw invalid('given key has already been provided during this generation operation');
    }
    a.progress.push(share);
    const progress = a.progress.length;
    const base = { ...this.status(), started: true, nonce: a.nonce, progress, otp_length: 0 };
    if (progress < required) return base;
    // As in Vault, a failed combination keeps the attempt but drops its progress.
    const shares = a.progress;
    a.progress = [];
    await this.#deps.proveQuorum(shares);
    const token = await this.#deps.createRootToken();
    this.#attempt = null;
    const encoded = encodeRootToken(token, a.otp);
    return { ...base, complete: true, encoded_token: encoded, encoded_root_token: encoded };
  }
}

/** base64 (unpadded, as Vault's RawStdEncoding) of token XOR otp; the lengths must match. */
export function encodeRootToken(token: string, otp: string): string {
  const t = Buffer.from(token, 'utf8');
  const o = Buffer.from(otp, 'utf8');
  if (t.length !== o.length) throw new Error('the root token and the OTP differ in length');
  return Buffer.from(t.map((b, i) => b ^ (o[i] ?? 0))).toString('base64').replace(/=+$/, '');
}

