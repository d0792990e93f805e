import type { CofferClient } from './client.js';
import { CofferClientError } from './errors.js';
import type { Secret, WrapInfo } from './types.js';

/**
 * Response wrapping (`sys/wrapping/*`): single-use tokens that stand for a stored response.
 * @example
 * const info = await client.wrapping.wrap({ password: 's3cret' }, '5m');
 * const secret = await client.wrapping.unwrap(info.token);   // secret?.data?.password
 */
export class WrappingApi {
  readonly #client: CofferClient;

  constructor(client: CofferClient) {
    this.#client = client;
  }

  /** Wraps your own data for `ttl`. @example `const { token } = await client.wrapping.wrap({ a: 1 }, 300);` */
  async wrap(data: Readonly<Record<string, unknown>>, ttl: string | number): Promise<WrapInfo> {
    const secret = await this.#client.write('sys/wrapping/wrap', data, { wrapTtl: ttl });
    if (secret?.wrap_info == null) throw new CofferClientError('unexpected response from POST sys/wrapping/wrap: no wrap_info');
    return secret.wrap_info;
  }

  /**
   * The original response behind a wrapping token; null if it had no body. Without `token`, the
   * client's own token is the wrapping token. With a token and a client that has none, the
   * wrapping token authenticates itself (its policy allows exactly this), as Vault's client does.
   * @example const secret = await client.wrapping.unwrap(wrappingToken);
   */
  async unwrap(token?: string): Promise<Secret | null> {
    const useAsHeader = token !== undefined && !this.#client.hasToken;
    const client = useAsHeader ? this.#client.withToken(token) : this.#client;
    const body = token === undefined || useAsHeader ? undefined : { token };
    const res = await client.request('POST', 'sys/wrapping/unwrap', body);
    return res.body === null ? null : client.parseSecret(res.body, 'POST sys/wrapping/unwrap');
  }

  /** What a wrapping token was made for, without using it (needs no token). @example `const { creation_path } = await client.wrapping.lookup(t);` */
  async lookup(token: string): Promise<Record<string, unknown>> {
    const secret = await this.#client.write('sys/wrapping/lookup', { token });
    return secret?.data ?? {};
  }

  /** A fresh wrapping token for the same response; the old one is spent. @example `const { token } = await client.wrapping.rewrap(old);` */
  async rewrap(token: string): Promise<WrapInfo> {
    const secret = await this.#client.write('sys/wrapping/rewrap', { token });
    if (secret?.wrap_info == null) throw new CofferClientError('unexpected response from POST sys/wrapping/rewrap: no wrap_info');
    return secret.wrap_info;
  }
}
