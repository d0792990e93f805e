import type { CofferClient } from './client.js';
import { CofferClientError } from './errors.js';
import type { Secret } from './types.js';

/** `auth/token/create` fields (Vault's names; durations as `"1h"` or seconds). */
export interface TokenCreateRequest {
  id?: string;
  policies?: string[];
  meta?: Record<string, string>;
  no_parent?: boolean;
  no_default_policy?: boolean;
  renewable?: boolean;
  ttl?: string;
  type?: 'service' | 'batch';
  explicit_max_ttl?: string;
  display_name?: string;
  num_uses?: number;
  period?: string;
  entity_alias?: string;
}

type Wrap = { wrapTtl?: string | number };

const wrapOpts = (o: Wrap): { wrapTtl?: string | number } => (o.wrapTtl === undefined ? {} : { wrapTtl: o.wrapTtl });

/**
 * The token store (`auth/token/*`) and the capability checks (`sys/capabilities*`).
 * @example
 * const created = await client.token.create({ policies: ['app'], ttl: '1h' });
 * const child = created.auth?.client_token;
 */
export class TokenApi {
  readonly #client: CofferClient;

  constructor(client: CofferClient) {
    this.#client = client;
  }

  /** Creates a token (a child of the caller's, unless `no_parent`), or one under `role`. @example `await client.token.create({ ttl: '10m' }, { role: 'ci' })` */
  async create(request: TokenCreateRequest, options: { role?: string } & Wrap = {}): Promise<Secret> {
    const path = options.role === undefined || options.role === '' ? 'auth/token/create' : `auth/token/create/${options.role}`;
    return this.#post(path, { ...request }, options);
  }

  /** The caller's token. @example `const { data } = await client.token.lookupSelf();` */
  async lookupSelf(options: Wrap = {}): Promise<Secret> {
    const res = await this.#client.request('GET', 'auth/token/lookup-self', undefined, wrapOpts(options));
    return this.#client.parseSecret(res.body, 'GET auth/token/lookup-self');
  }

  /** Another token's properties. @example `await client.token.lookup(token)` */
  lookup(token: string, options: Wrap = {}): Promise<Secret> {
    return this.#post('auth/token/lookup', { token }, options);
  }

  /** A token's properties by accessor (without the token itself). @example `await client.token.lookupAccessor(accessor)` */
  lookupAccessor(accessor: string, options: Wrap = {}): Promise<Secret> {
    return this.#post('auth/token/lookup-accessor', { accessor }, options);
  }

  /** Renews the caller's token, by `increment` seconds or duration when given. @example `await client.token.renewSelf('1h')` */
  renewSelf(increment?: string | number): Promise<Secret> {
    return this.#post('auth/token/renew-self', increment === undefined ? {} : { increment }, {});
  }

  /** Renews a token. @example `await client.token.renew(token, 3600)` */
  renew(token: string, increment?: string | number): Promise<Secret> {
    return this.#post('auth/token/renew', { token, ...(increment === undefined ? {} : { increment }) }, {});
  }

  /** Renews a token by accessor. @example `await client.token.renewAccessor(accessor)` */
  renewAccessor(accessor: string, increment?: string | number): Promise<Secret> {
    return this.#post('auth/token/renew-accessor', { accessor, ...(increment === undefined ? {} : { increment }) }, {});
  }

  /** Revokes the caller's token and its children. @example `await client.token.revokeSelf()` */
  async revokeSelf(): Promise<void> {
    await this.#client.request('POST', 'auth/token/revoke-self');
  }

  /** Revokes a token and its children (no error for an unknown token). @example `await client.token.revoke(token)` */
  async revoke(token: string): Promise<void> {
    await this.#client.request('POST', 'auth/token/revoke', { token });
  }

  /** Revokes a token by accessor, with its children. @example `await client.token.revokeAccessor(accessor)` */
  async revokeAccessor(accessor: string): Promise<void> {
    await this.#client.request('POST', 'auth/token/revoke-accessor', { accessor });
  }

  /** Revokes a token but keeps its children, which become orphans (root/sudo). @example `await client.token.revokeOrphan(token)` */
  async revokeOrphan(token: string): Promise<void> {
    await this.#client.request('POST', 'auth/token/revoke-orphan', { token });
  }

  /** Revokes every token and lease created under a path prefix, e.g. `auth/userpass/` (sudo; `sys/leases/revoke-prefix`). @example `await client.token.revokePrefix('auth/userpass/')` */
  async revokePrefix(prefix: string): Promise<void> {
    await this.#client.request('PUT', `sys/leases/revoke-prefix/${prefix.replace(/^\/+/, '')}`);
  }

  /**
   * Capabilities on each path: of the caller (no `token`/`accessor`), of `token`, or of the token
   * with `accessor`. Sorted, as the server returns them.
   * @example const caps = await client.token.capabilities(['secret/data/app']); caps['secret/data/app']
   */
  async capabilities(paths: readonly string[], who: { token?: string; accessor?: string } = {}): Promise<Record<string, string[]>> {
    const [path, body] =
      who.token !== undefined
        ? ['sys/capabilities', { token: who.token, paths }]
        : who.accessor !== undefined
          ? ['sys/capabilities-accessor', { accessor: who.accessor, paths }]
          : ['sys/capabilities-self', { paths }];
    const secret = await this.#post(path, body, {});
    const out: Record<string, string[]> = {};
    for (const p of paths) {
      const caps: unknown = secret.data?.[p] ?? (paths.length === 1 ? secret.data?.['capabilities'] : undefined);
      if (!Array.isArray(caps) || !caps.every((c): c is string => typeof c === 'string')) {
        throw new CofferClientError(`unexpected response from POST ${path}: no capabilities for ${p}`);
      }
      out[p] = caps;
    }
    return out;
  }

  async #post(path: string, body: Record<string, unknown>, options: Wrap): Promise<Secret> {
    const res = await this.#client.request('POST', path, body, wrapOpts(options));
    if (res.body === null) throw new CofferClientError(`unexpected response from POST ${path}: no body`);
    return this.#client.parseSecret(res.body, `POST ${path}`);
  }
}

/**
 * Logging in to an auth method mounted at `auth/<mount>/`: POST `auth/<mount>/login` (or
 * `login/<username>` for userpass-like methods) with the credentials. Sent without a token.
 * @example
 * const secret = await client.auth.login('userpass', { password: 'pw' }, { username: 'alice' });
 * const token = secret.auth?.client_token;
 */
export class AuthApi {
  readonly #client: CofferClient;

  constructor(client: CofferClient) {
    this.#client = client;
  }

  async login(mount: string, credentials: Readonly<Record<string, unknown>>, options: { username?: string } & Wrap = {}): Promise<Secret> {
    const base = `auth/${mount.replace(/^\/+|\/+$/g, '')}/login`;
    const path = options.username === undefined ? base : `${base}/${options.username}`;
    const res = await this.#client.withToken(undefined).request('POST', path, credentials, wrapOpts(options));
    if (res.body === null) throw new CofferClientError(`unexpected response from POST ${path}: no body`);
    return this.#client.parseSecret(res.body, `POST ${path}`);
  }
}
