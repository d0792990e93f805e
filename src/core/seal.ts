import { randomBytes, randomUUID } from 'node:crypto';
import * as z from 'zod';
import { aeadOpen, aeadSeal, type Barrier } from '../barrier/index.js';
import {
  KEY_BYTES, SHARE_BYTES, assertCombinable, combineShares, decodeShare, isKnownShare, shareDigest, splitKey, validateShareCounts,
} from '../barrier/shamir.js';
import type { Storage } from '../storage/types.js';
import { CofferError, invalid } from '../util/errors.js';
import { RootGeneration, type GenerateRootStatus } from './generate-root.js';

const SEAL_CONFIG = 'core/seal-config';
const ROOT_KEY = 'core/root-key';
const SHARE_CHECK = 'core/share-check';

const sealConfigSchema = z.object({ type: z.literal('shamir'), secret_shares: z.number().int(), secret_threshold: z.number().int() });
type SealConfig = z.infer<typeof sealConfigSchema>;

/** The seal's state: one union, never a set of flags. */
export type SealState =
  | { readonly kind: 'uninitialized' }
  | { readonly kind: 'sealed'; readonly config: SealConfig; readonly progress: readonly Uint8Array[]; readonly nonce: string }
  | { readonly kind: 'unsealed'; readonly config: SealConfig };

export interface SealStatus {
  type: 'shamir'; initialized: boolean; sealed: boolean; t: number; n: number; progress: number; nonce: string;
}

export interface InitResult { keys: Uint8Array[]; rootToken: string }

interface RekeyState { nonce: string; shares: number; threshold: number; progress: Uint8Array[] }
export interface RekeyStatus {
  nonce: string; started: boolean; t: number; n: number; progress: number; required: number;
  pgp_fingerprints: null; backup: boolean; verification_required: boolean;
}

export interface SealHooks {
  /** Runs once at init with the barrier open: lays out the first mounts and makes the root token. */
  initialize(options: { rootToken?: string }): Promise<{ rootToken: string }>;
  /** Runs after every unseal, before the state turns unsealed. */
  unsealed(): Promise<void>;
  /** Runs before the barrier closes. */
  sealing(): Promise<void>;
  /** Creates a new root token (sys/generate-root at the quorum); returns the token. */
  createRootToken(): Promise<string>;
}

/**
 * Shamir seal: the seal key is split into shares that are never stored; the seal key encrypts
 * the root key, which opens the barrier's keyring.
 */
export class SealController {
  readonly #storage: Storage;
  readonly #barrier: Barrier;
  readonly #hooks: SealHooks;
  #state: SealState = { kind: 'uninitialized' };
  #rekey: RekeyState | null = null;
  readonly #rootGen: RootGeneration;
  /** Serializes state changes: two unseal calls never race into the barrier. */
  #lock: Promise<unknown> = Promise.resolve();

  constructor(storage: Storage, barrier: Barrier, hooks: SealHooks) {
    this.#storage = storage;
    this.#barrier = barrier;
    this.#hooks = hooks;
    this.#rootGen = new RootGeneration({
      threshold: () => this.#unsealedConfig().secret_threshold,
      checkShare: (key) => this.#checkShare(key, this.#unsealedConfig()),
      proveQuorum: async (shares) => {
        const threshold = this.#unsealedConfig().secret_threshold;
        assertCombinable(shares);
        (await this.#decryptRootKey(await combineShares(shares, threshold))).fill(0);
      },
      createRootToken: () => this.#hooks.createRootToken(),
    });
  }

  /** Reads the stored seal config: a started server is sealed if initialized. */
  async load(): Promise<SealState> {
    const config = await this.#readConfig();
    this.#state = config ? { kind: 'sealed', config, progress: [], nonce: randomUUID() } : { kind: 'uninitialized' };
    return this.#state;
  }

  get state(): SealState { return this.#state; }

  status(): SealStatus {
    const s = this.#state;
    if (s.kind === 'uninitialized') return { type: 'shamir', initialized: false, sealed: true, t: 0, n: 0, progress: 0, nonce: '' };
    const base = { type: 'shamir' as const, initialized: true, t: s.config.secret_threshold, n: s.config.secret_shares };
    return s.kind === 'sealed'
      ? { ...base, sealed: true, progress: s.progress.length, nonce: s.progress.length > 0 ? s.nonce : '' }
      : { ...base, sealed: false, progress: 0, nonce: '' };
  }

  /** `rootToken` fixes the root token's value (dev mode's --dev-root-token). */
  initialize(shares: number, threshold: number, options: { rootToken?: string } = {}): Promise<InitResult> {
    return this.#serial(async () => {
      validateShareCounts(shares, threshold);
      if (this.#state.kind !== 'uninitialized' || (await this.#readConfig())) {
        throw new CofferError('already_initialized', 'Vault is already initialized');
      }
      const rootKey = randomBytes(KEY_BYTES);
      const sealKey = randomBytes(KEY_BYTES);
      const keys = await splitKey(sealKey, shares, threshold);
      let rootToken: string;
      try {
        await this.#barrier.initialize(rootKey);
        ({ rootToken } = await this.#hooks.initialize(options));
        await this.#hooks.sealing();
        await this.#barrier.checkpoint();
      } finally {
        this.#barrier.seal();
      }
      const config: SealConfig = { type: 'shamir', secret_shares: shares, secret_threshold: threshold };
      // The seal config goes last: a crash before it leaves the server uninitialized-looking,
      // and `initialize` refuses to run twice over a keyring (Barrier.initialize checks).
      await this.#storage.transaction([
        { kind: 'put', key: ROOT_KEY, value: aeadSeal(sealKey, 0, ROOT_KEY, rootKey) },
        { kind: 'put', key: SHARE_CHECK, value: Buffer.from(JSON.stringify(keys.map(shareDigest))) },
        { kind: 'put', key: SEAL_CONFIG, value: Buffer.from(JSON.stringify(config)) },
      ]);
      rootKey.fill(0);
      sealKey.fill(0);
      this.#state = { kind: 'sealed', config, progress: [], nonce: randomUUID() };
      return { keys, rootToken };
    });
  }

  /** Adds one share; unseals when the threshold is reached. */
  submitShare(key: unknown): Promise<SealStatus> {
    return this.#serial(async () => {
      const s = this.#state;
      if (s.kind === 'uninitialized') throw new CofferError('uninitialized', 'Vault is not initialized');
      if (s.kind === 'unsealed') return this.status();
      const share = decodeShare(key, s.config.secret_threshold === 1 ? KEY_BYTES : SHARE_BYTES);
      if (!isKnownShare(share, await this.#readShareDigests())) throw invalid('unseal key is not one of the key shares of this server');
      if (s.progress.some((p) => Buffer.compare(p, share) === 0)) return this.status();
      const progress = [...s.progress, share];
      if (progress.length < s.config.secret_threshold) {
        this.#state = { ...s, progress };
        return this.status();
      }
      this.#state = { ...s, progress: [], nonce: randomUUID() };
      await this.#openBarrier(progress, s.config.secret_threshold);
      try {
        await this.#hooks.unsealed();
      } catch (e) {
        this.#barrier.seal();
        throw e;
      }
      this.#state = { kind: 'unsealed', config: s.config };
      return this.status();
    });
  }

  resetProgress(): SealStatus {
    if (this.#state.kind === 'sealed') this.#state = { ...this.#state, progress: [], nonce: randomUUID() };
    return this.status();
  }

  seal(): Promise<void> {
    return this.#serial(async () => {
      const s = this.#state;
      if (s.kind !== 'unsealed') return;
      try {
        await this.#hooks.sealing();
        await this.#barrier.checkpoint();
      } finally {
        this.#barrier.seal();
        this.#rekey = null;
        this.#rootGen.reset();
        this.#state = { kind: 'sealed', config: s.config, progress: [], nonce: randomUUID() };
      }
    });
  }

  rekeyStatus(): RekeyStatus {
    const config = this.#unsealedConfig();
    const r = this.#rekey;
    return {
      nonce: r?.nonce ?? '', started: r !== null, t: r?.threshold ?? 0, n: r?.shares ?? 0, progress: r?.progress.length ?? 0,
      required: config.secret_threshold, pgp_fingerprints: null, backup: false, verification_required: false,
    };
  }

  rekeyInit(shares: number, threshold: number): RekeyStatus {
    this.#unsealedConfig();
    if (this.#rekey) throw invalid('rekey already in progress');
    validateShareCounts(shares, threshold);
    this.#rekey = { nonce: randomUUID(), shares, threshold, progress: [] };
    return this.rekeyStatus();
  }

  rekeyCancel(): void {
    this.#rekey = null;
  }

  /** Adds one of the current shares; at the quorum, re-splits a new seal key and returns its shares. */
  rekeyUpdate(key: unknown, nonce: unknown): Promise<RekeyStatus & { complete?: true; keys?: Uint8Array[] }> {
    return this.#serial(async () => {
      const config = this.#unsealedConfig();
      const r = this.#rekey;
      if (!r) throw invalid('no rekey in progress');
      if (typeof nonce !== 'string' || nonce !== r.nonce) throw invalid('incorrect nonce');
      const share = await this.#checkShare(key, config);
      if (!r.progress.some((p) => Buffer.compare(p, share) === 0)) r.progress.push(share);
      if (r.progress.length < config.secret_threshold) return this.rekeyStatus();
      const progress = r.progress;
      this.#rekey = null;
      const oldSealKey = await combineShares(progress, config.secret_threshold);
      const rootKey = await this.#decryptRootKey(oldSealKey);
      const sealKey = randomBytes(KEY_BYTES);
      const keys = await splitKey(sealKey, r.shares, r.threshold);
      const next: SealConfig = { type: 'shamir', secret_shares: r.shares, secret_threshold: r.threshold };
      await this.#storage.transaction([
        { kind: 'put', key: ROOT_KEY, value: aeadSeal(sealKey, 0, ROOT_KEY, rootKey) },
        { kind: 'put', key: SHARE_CHECK, value: Buffer.from(JSON.stringify(keys.map(shareDigest))) },
        { kind: 'put', key: SEAL_CONFIG, value: Buffer.from(JSON.stringify(next)) },
      ]);
      rootKey.fill(0);
      sealKey.fill(0);
      this.#state = { kind: 'unsealed', config: next };
      return { ...this.rekeyStatus(), nonce: r.nonce, complete: true, keys };
    });
  }

  generateRootStatus(): GenerateRootStatus { return this.#rootGen.status(); }

  generateRootInit(otp: unknown, pgpKey: unknown): GenerateRootStatus { return this.#rootGen.init(otp, pgpKey); }

  generateRootCancel(): void { this.#rootGen.cancel(); }

  /** Adds one unseal key to the root generation; the last one returns the new root token XORed with the OTP. */
  generateRootUpdate(key: unknown, nonce: unknown): Promise<GenerateRootStatus> {
    return this.#serial(() => this.#rootGen.update(key, nonce));
  }

  async #checkShare(key: unknown, config: SealConfig): Promise<Uint8Array> {
    const share = decodeShare(key, config.secret_threshold === 1 ? KEY_BYTES : SHARE_BYTES);
    if (!isKnownShare(share, await this.#readShareDigests())) throw invalid('unseal key is not one of the key shares of this server');
    return share;
  }

  async #openBarrier(shares: Uint8Array[], threshold: number): Promise<void> {
    assertCombinable(shares);
    const sealKey = await combineShares(shares, threshold);
    const rootKey = await this.#decryptRootKey(sealKey);
    try {
      await this.#barrier.unseal(rootKey);
    } finally {
      rootKey.fill(0);
    }
  }

  async #decryptRootKey(sealKey: Uint8Array): Promise<Uint8Array> {
    const stored = await this.#storage.get(ROOT_KEY);
    if (!stored) throw new CofferError('tampered', 'the encrypted root key is missing from storage');
    try {
      return aeadOpen(sealKey, ROOT_KEY, stored);
    } catch {
      // Every share was individually known, so only a mismatched set (or tampering) lands here.
      throw invalid('unseal failed: the key shares do not combine into this server\'s seal key');
    } finally {
      sealKey.fill(0);
    }
  }

  async #readConfig(): Promise<SealConfig | undefined> {
    const raw = await this.#storage.get(SEAL_CONFIG);
    if (!raw) return undefined;
    try {
      return sealConfigSchema.parse(JSON.parse(Buffer.from(raw).toString('utf8')));
    } catch (cause) {
      throw new CofferError('tampered', 'stored seal configuration is malformed', { cause });
    }
  }

  async #readShareDigests(): Promise<string[]> {
    const raw = await this.#storage.get(SHARE_CHECK);
    if (!raw) throw new CofferError('tampered', 'stored share digests are missing');
    const parsed = z.array(z.string()).safeParse(JSON.parse(Buffer.from(raw).toString('utf8')));
    if (!parsed.success) throw new CofferError('tampered', 'stored share digests are malformed');
    return parsed.data;
  }

  #unsealedConfig(): SealConfig {
    if (this.#state.kind === 'uninitialized') throw new CofferError('uninitialized', 'Vault is not initialized');
    if (this.#state.kind === 'sealed') throw new CofferError('sealed', 'Vault is sealed');
    return this.#state.config;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn);
    this.#lock = run.catch(() => undefined);
    return run;
  }
}
