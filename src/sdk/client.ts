import { readFileSync } from 'node:fs';
import { CofferApiError, CofferClientError, errorsFromBody } from './errors.js';
import { settingsFromEnv } from './env.js';
import { SysApi } from './sys.js';
import { KvApi } from './kv.js';
import { MountsApi } from './mounts.js';
import { PolicyApi } from './policy.js';
import { AuthApi, TokenApi } from './token.js';
import { WrappingApi } from './wrapping.js';
import { nodeTransport } from './transport.js';
import type { Transport, WireResponse } from './transport.js';
import { secretSchema } from './types.js';
import type { ListSecret, Secret } from './types.js';

export type HttpMethod = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE' | 'LIST';

export interface CofferClientOptions {
  /** Base URL of the server, e.g. `https://coffer.internal:8200` (no `/v1`). */
  address: string;
  /** Sent as `X-Vault-Token`. */
  token?: string;
  /** Sent as `X-Vault-Namespace`. */
  namespace?: string;
  /** CA certificate(s) to trust for https: a PEM file path, or the PEM text itself. */
  caCert?: string;
  /** Do not verify the server certificate (https only). */
  tlsSkipVerify?: boolean;
  /** Per-request timeout; 60 s by default, as Vault's client. */
  timeoutMs?: number;
  /** Replaces the HTTP layer (tests, instrumentation). */
  transport?: Transport;
}

export interface RequestOptions {
  /** Query parameters; undefined values are left out. */
  query?: Readonly<Record<string, string | number | boolean | undefined>>;
  /** Non-2xx statuses to return instead of throwing (e.g. 404 for a read, 429/503 for health). */
  accept?: readonly number[];
  /** Extra headers (e.g. `X-Vault-Wrap-TTL`); a `Content-Type` given here is kept. */
  headers?: Readonly<Record<string, string>>;
  /** Ask for response wrapping: sent as `X-Vault-Wrap-TTL` (seconds or `5m`, `1h`). */
  wrapTtl?: string | number;
}

/** A raw answer: the status and the parsed JSON body (null when the body is empty). */
export interface ApiResponse {
  status: number;
  body: unknown;
}

/** Short tokens (the dev server's `root`) would turn redaction into mangling of ordinary words. */
const MIN_REDACTED_TOKEN = 8;

/** Escapes each path segment as Go's url.URL does: RFC 3986 sub-delims, `:` and `@` stay as they are. */
function escapePath(path: string): string {
  return path
    .split('/')
    .map((seg) => encodeURIComponent(seg).replace(/%(?:3A|40|24|26|2B|2C|3B|3D)/gi, (m) => decodeURIComponent(m)))
    .join('/');
}

function loadCa(caCert: string): string {
  if (caCert.includes('-----BEGIN')) return caCert;
  try {
    return readFileSync(caCert, 'utf8');
  } catch (e) {
    throw new TypeError(`cannot read the CA certificate file ${caCert}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * A typed client of Coffer's (and Vault's) HTTP API.
 * @example
 * const client = CofferClient.fromEnv();
 * await client.write('secret/data/app', { data: { password: 's3cret' } });
 */
export class CofferClient {
  readonly address: string;
  readonly sys: SysApi;
  /** KV v1/v2 secrets, addressed as the Vault CLI's `kv` commands do. */
  readonly kv: KvApi;
  /** The token store (`auth/token/*`) and `sys/capabilities*`. */
  readonly token: TokenApi;
  /** Logging in to auth methods (`auth/<mount>/login`). */
  readonly auth: AuthApi;
  /** ACL policies (`sys/policies/acl`). */
  readonly policy: PolicyApi;
  /** Secrets engines (`sys/mounts`, `sys/remount`). */
  readonly mounts: MountsApi;
  /** Auth method mounts (`sys/auth`). */
  readonly authMounts: MountsApi;
  /** Response wrapping (`sys/wrapping/*`). */
  readonly wrapping: WrappingApi;
  readonly #options: CofferClientOptions;
  readonly #token: string | undefined;
  readonly #namespace: string | undefined;
  readonly #timeoutMs: number;
  readonly #transport: Transport;

  constructor(options: CofferClientOptions) {
    let url: URL;
    try {
      url = new URL(options.address);
    } catch {
      throw new TypeError(`invalid server address ${JSON.stringify(options.address)}: expected e.g. http://127.0.0.1:8200`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`invalid server address ${JSON.stringify(options.address)}: the scheme must be http or https`);
    }
    this.address = options.address.replace(/\/+$/, '');
    this.#token = options.token === '' ? undefined : options.token;
    this.#namespace = options.namespace === '' ? undefined : options.namespace;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    this.#transport =
      options.transport ??
      nodeTransport({
        ...(options.caCert === undefined ? {} : { ca: loadCa(options.caCert) }),
        insecure: options.tlsSkipVerify === true,
      });
    this.#options = options;
    this.sys = new SysApi(this);
    this.kv = new KvApi(this);
    this.token = new TokenApi(this);
    this.auth = new AuthApi(this);
    this.policy = new PolicyApi(this);
    this.mounts = new MountsApi(this, 'mounts');
    this.authMounts = new MountsApi(this, 'auth');
    this.wrapping = new WrappingApi(this);
  }

  /** Whether requests carry a token. */
  get hasToken(): boolean {
    return this.#token !== undefined;
  }

  /**
   * The same client (address, TLS, namespace, transport) with another token, or none.
   * @example const asApp = client.withToken(appToken); await asApp.token.lookupSelf();
   */
  withToken(token: string | undefined): CofferClient {
    const { token: _old, ...rest } = this.#options;
    return new CofferClient(token === undefined ? rest : { ...rest, token });
  }

  /**
   * Address, token, namespace and TLS settings from COFFER_* / VAULT_* and `~/.coffer-token`;
   * `overrides` (e.g. a `--address` flag) win over the environment.
   * @example const client = CofferClient.fromEnv({ address: 'https://coffer:8200' });
   */
  static fromEnv(
    overrides: Partial<CofferClientOptions> = {},
    env: Readonly<Record<string, string | undefined>> = process.env,
  ): CofferClient {
    const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
    return new CofferClient({ ...settingsFromEnv(env), ...defined });
  }

  /**
   * Sends one request to `/v1/<path>`; resolves for 2xx and the statuses in `accept`, throws
   * CofferApiError otherwise, CofferClientError when no usable answer came back.
   * @example const { status, body } = await client.request('GET', 'sys/mounts');
   */
  async request(method: HttpMethod, path: string, body?: unknown, options: RequestOptions = {}): Promise<ApiResponse> {
    const url = new URL(`${this.address}/v1/${escapePath(path.replace(/^\/+/, ''))}`);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { 'X-Vault-Request': 'true', ...options.headers };
    if (this.#token !== undefined) headers['X-Vault-Token'] = this.#token;
    if (this.#namespace !== undefined) headers['X-Vault-Namespace'] = this.#namespace;
    if (options.wrapTtl !== undefined && options.wrapTtl !== '') headers['X-Vault-Wrap-TTL'] = String(options.wrapTtl);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) headers['Content-Type'] ??= 'application/json';

    let res: WireResponse;
    try {
      res = await this.#transport({ method, url, headers, timeoutMs: this.#timeoutMs, ...(payload === undefined ? {} : { body: payload }) });
    } catch (e) {
      throw new CofferClientError(this.#redact(`${method} ${url.href}: ${describeFailure(e)}`), { cause: e });
    }
    const ok = (res.status >= 200 && res.status < 300) || (options.accept ?? []).includes(res.status);
    const parsed = parseBody(res.text);
    if (!ok) {
      const errors =
        res.status >= 300 && res.status < 400 && res.location !== undefined
          ? [`redirected to ${res.location}; not followed, so the token stays with this address (point the client at the active node)`]
          : parsed.json ? errorsFromBody(parsed.value) : res.text.trim() === '' ? [] : [res.text.trim()];
      throw new CofferApiError({
        status: res.status, method, url: url.href, body: parsed.json ? parsed.value : undefined, errors: errors.map((m) => this.#redact(m)),
      });
    }
    if (!parsed.json) throw new CofferClientError(`${method} ${url.href}: the response body is not JSON (status ${res.status})`);
    return { status: res.status, body: parsed.value };
  }

  /**
   * Reads a path; null when there is nothing there (404), as Vault's client. A 404 that still
   * carries data or warnings (a deleted KV v2 version) is returned.
   * @example const secret = await client.read('secret/data/app'); secret?.data
   */
  async read(path: string, options: RequestOptions = {}): Promise<Secret | null> {
    const res = await this.request('GET', path, undefined, { ...options, accept: [404, ...(options.accept ?? [])] });
    if (res.body === null) return null;
    const secret = this.#secret(res.body, 'GET', path);
    if (res.status === 404 && (secret.data === null || Object.keys(secret.data).length === 0) && !secret.warnings?.length) return null;
    return secret;
  }

  /**
   * Writes data to a path (PUT); null when the server answers 204.
   * @example await client.write('secret/data/app', { data: { password: 's3cret' } });
   */
  async write(path: string, data: Readonly<Record<string, unknown>>, options: RequestOptions = {}): Promise<Secret | null> {
    const res = await this.request('PUT', path, data, options);
    return res.body === null ? null : this.#secret(res.body, 'PUT', path);
  }

  /**
   * Lists the keys under a path with the LIST method; null when there are none (Vault's 404).
   * A wrapped answer (`wrapTtl`) has no keys of its own: `keys` is empty, see `wrap_info`.
   * @example const keys = (await client.list('secret/metadata/'))?.data.keys ?? [];
   */
  async list(path: string, options: RequestOptions = {}): Promise<ListSecret | null> {
    const res = await this.request('LIST', path, undefined, { ...options, accept: [404, ...(options.accept ?? [])] });
    if (res.status === 404 || res.body === null) return null;
    const secret = this.#secret(res.body, 'LIST', path);
    if (secret.wrap_info !== null && secret.data === null) return { ...secret, data: { keys: [] } };
    const keys: unknown = secret.data?.['keys'];
    if (!Array.isArray(keys) || !keys.every((k): k is string => typeof k === 'string')) {
      throw new CofferClientError(`unexpected response from LIST ${path}: data.keys is not a list of strings`);
    }
    return { ...secret, data: { ...secret.data, keys } };
  }

  /**
   * Deletes a path; null when the server answers 204 (the usual case).
   * @example await client.delete('secret/metadata/app');
   */
  async delete(path: string, options: RequestOptions = {}): Promise<Secret | null> {
    const res = await this.request('DELETE', path, undefined, options);
    return res.body === null ? null : this.#secret(res.body, 'DELETE', path);
  }

  /**
   * The help text a path declares (`GET <path>?help=1`), as `coffer path-help` prints it.
   * @example const { help } = await client.help('secret/data/app');
   */
  async help(path: string): Promise<{ help: string; openapi?: unknown }> {
    const res = await this.request('GET', path, undefined, { query: { help: 1 } });
    const body = res.body;
    if (typeof body !== 'object' || body === null || !('help' in body) || typeof body.help !== 'string') {
      throw new CofferClientError(`unexpected response from GET ${path}?help=1: no help text`);
    }
    return { help: body.help, ...('openapi' in body ? { openapi: body.openapi } : {}) };
  }

  /**
   * Parses a response body as Vault's envelope (for the typed APIs built on `request`).
   * @example const secret = client.parseSecret(res.body, 'GET auth/token/lookup-self');
   */
  parseSecret(body: unknown, what: string): Secret {
    const result = secretSchema.safeParse(body);
    if (!result.success) throw new CofferClientError(`unexpected response from ${what}: not a Vault response envelope`);
    return result.data;
  }

  #secret(body: unknown, method: string, path: string): Secret {
    return this.parseSecret(body, `${method} ${path}`);
  }

  #redact(text: string): string {
    const token = this.#token;
    return token !== undefined && token.length >= MIN_REDACTED_TOKEN ? text.split(token).join('<redacted>') : text;
  }
}

function parseBody(text: string): { json: true; value: unknown } | { json: false } {
  if (text.trim() === '') return { json: true, value: null };
  try {
    return { json: true, value: JSON.parse(text) as unknown };
  } catch {
    return { json: false };
  }
}

/** A caller's own transport (fetch, say) may hide the useful part (ECONNREFUSED, certificate errors) in `cause`. */
function describeFailure(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  if (e.name === 'TimeoutError') return 'the request timed out';
  const cause: unknown = e.cause;
  if (cause instanceof Error && cause.message !== '') return `${e.message}: ${cause.message}`;
  return e.message;
}
