import { createHmac } from 'node:crypto';

const ID_MEMO_MAX = 10_000;

/**
 * Storage ids of tokens and accessors: HMAC-SHA256 under a salt kept inside the barrier, so
 * storage never holds a token. Ids of recently presented tokens are memoized (one HMAC per
 * token, not per request): a pure function of token and salt never goes stale; the memo is
 * bounded and dropped, with the salt, on seal.
 */
export class TokenHasher {
  readonly #salt: Buffer;
  readonly #idMemo = new Map<string, string>();

  /** Takes ownership of `salt` (zeroed by `zero()`). */
  constructor(salt: Buffer) {
    this.#salt = salt;
  }

  hash(token: string, kind: 'id' | 'accessor'): string {
    const memo = kind === 'id' ? this.#idMemo.get(token) : undefined;
    if (memo !== undefined) return memo;
    const id = createHmac('sha256', this.#salt).update(`${kind}:${token}`).digest('hex');
    if (kind === 'id') {
      if (this.#idMemo.size >= ID_MEMO_MAX) this.#idMemo.clear();
      this.#idMemo.set(token, id);
    }
    return id;
  }

  zero(): void {
    this.#idMemo.clear();
    this.#salt.fill(0);
  }
}
