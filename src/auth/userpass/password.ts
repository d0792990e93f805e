import { randomBytes } from 'node:crypto';
import { hash, parseOptions, verify, type Algorithm } from '@node-rs/argon2';

/** OWASP's argon2id minimum (SECURITY.md rule 6): 19 MiB, 2 passes, 1 lane. */
const ARGON2ID: Algorithm = 2;
export const ARGON2_PARAMS = { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

/** Longer inputs are refused before hashing: argon2 itself would take them, but they only cost us. */
export const MAX_PASSWORD_BYTES = 1024;

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_PARAMS);
}

/** A stored hash made with weaker parameters than today's (rehashed after the next good login). */
export function needsRehash(phc: string): boolean {
  try {
    const o = parseOptions(phc);
    return o.algorithm !== ARGON2ID || o.memoryCost < ARGON2_PARAMS.memoryCost || o.timeCost < ARGON2_PARAMS.timeCost;
  } catch {
    return true;
  }
}

/**
 * Checks passwords so that an unknown user costs the same as a wrong password: without a stored
 * hash it verifies against a dummy hash made with the same parameters.
 */
export class PasswordVerifier {
  #dummy: Promise<string> | undefined;

  async verify(stored: string | undefined, password: string): Promise<boolean> {
    this.#dummy ??= hashPassword(randomBytes(16).toString('base64'));
    const target = stored ?? (await this.#dummy);
    let ok: boolean;
    try {
      ok = await verify(target, password);
    } catch {
      // A damaged stored hash fails like a wrong password, never as an error that tells them apart.
      ok = false;
    }
    return ok && stored !== undefined;
  }
}
