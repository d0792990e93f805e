import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import { CofferError } from '../util/errors.js';

/** NIST SP 800-38D caps random-nonce GCM at 2^32 encryptions per key; rotate at 90% of that. */
export const DEFAULT_ROTATION_THRESHOLD = Math.floor(2 ** 32 * 0.9);
/**
 * Encryption counts are persisted as a reservation ahead of use, so a crash can only make the
 * stored count too high (an early rotation), never too low.
 */
export const COUNT_RESERVATION = 100_000;

export interface TermKey {
  readonly term: number;
  readonly key: Buffer;
  readonly installTime: Date;
  /** Encryptions done with this key (in memory, exact). */
  encryptions: number;
  /** Encryptions the stored keyring already accounts for. */
  reserved: number;
}

const storedSchema = z.object({
  activeTerm: z.number().int().positive(),
  keys: z.array(z.object({
    term: z.number().int().positive(),
    key: z.string(),
    installTime: z.string(),
    reserved: z.number().int().nonnegative(),
  })).min(1),
});

/** The data keys of the barrier, one per term. The newest term encrypts; every term decrypts. */
export class Keyring {
  readonly #keys = new Map<number, TermKey>();
  #active: TermKey;

  private constructor(keys: TermKey[], activeTerm: number) {
    for (const k of keys) this.#keys.set(k.term, k);
    const active = this.#keys.get(activeTerm);
    if (!active) throw new CofferError('tampered', 'keyring has no active term');
    this.#active = active;
  }

  static create(): Keyring {
    return new Keyring([{ term: 1, key: randomBytes(32), installTime: new Date(), encryptions: 0, reserved: 0 }], 1);
  }

  static decode(bytes: Uint8Array): Keyring {
    let parsed: z.infer<typeof storedSchema>;
    try {
      parsed = storedSchema.parse(JSON.parse(Buffer.from(bytes).toString('utf8')));
    } catch (cause) {
      throw new CofferError('tampered', 'keyring is malformed', { cause });
    }
    // A crash may have lost counts since the last reservation: assume the whole reservation was used.
    return new Keyring(parsed.keys.map((k) => ({
      term: k.term, key: Buffer.from(k.key, 'base64'), installTime: new Date(k.installTime), encryptions: k.reserved, reserved: k.reserved,
    })), parsed.activeTerm);
  }

  /**
   * Serializes with a fresh reservation for the active term (or, for a clean shutdown, the
   * exact counts); call `commit` once the bytes are stored.
   */
  encode(exact = false): { bytes: Uint8Array; commit: () => void } {
    const next = new Map<number, number>();
    for (const k of this.#keys.values()) next.set(k.term, k === this.#active && !exact ? k.encryptions + COUNT_RESERVATION : k.encryptions);
    const bytes = Buffer.from(JSON.stringify({
      activeTerm: this.#active.term,
      keys: [...this.#keys.values()].map((k) => ({ term: k.term, key: k.key.toString('base64'), installTime: k.installTime.toISOString(), reserved: next.get(k.term) })),
    }), 'utf8');
    return { bytes, commit: () => { for (const k of this.#keys.values()) k.reserved = next.get(k.term) ?? k.reserved; } };
  }

  get active(): TermKey { return this.#active; }
  term(term: number): TermKey | undefined { return this.#keys.get(term); }
  get terms(): TermKey[] { return [...this.#keys.values()]; }

  /** Adds term N+1 as the active key; older terms stay for decryption. */
  rotate(): TermKey {
    const term = Math.max(...this.#keys.keys()) + 1;
    const k: TermKey = { term, key: randomBytes(32), installTime: new Date(), encryptions: 0, reserved: 0 };
    this.#keys.set(term, k);
    this.#active = k;
    return k;
  }

  /** Overwrites key material in memory; the keyring is unusable afterwards. */
  zero(): void {
    for (const k of this.#keys.values()) k.key.fill(0);
    this.#keys.clear();
  }
}
