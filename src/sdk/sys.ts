import * as z from 'zod';
import { CofferClientError } from './errors.js';
import type { ApiResponse, HttpMethod, RequestOptions } from './client.js';
import {
  healthSchema, initResponseSchema, initStatusSchema, keyStatusSchema, leaderSchema, rekeyStatusSchema, rekeyUpdateSchema,
  sealStatusSchema,
} from './types.js';
import type {
  HealthQuery, HealthResponse, InitRequest, InitResponse, InitStatus, KeyStatus, LeaderResponse, RekeyInitRequest, RekeyStatus,
  RekeyUpdateResponse, SealStatus, UnsealRequest,
} from './types.js';

/** sys/generate-root/attempt and /update (Vault's GenerateRootStatusResponse); `otp` only right after a server-generated init. */
export const generateRootStatusSchema = z.looseObject({
  started: z.boolean().default(false),
  nonce: z.string().default(''),
  progress: z.number().default(0),
  required: z.number().default(0),
  complete: z.boolean().default(false),
  encoded_token: z.string().default(''),
  encoded_root_token: z.string().default(''),
  pgp_fingerprint: z.string().default(''),
  otp: z.string().default(''),
  otp_length: z.number().default(0),
});
export type GenerateRootStatus = z.infer<typeof generateRootStatusSchema>;

/** The one thing SysApi needs from the client. */
export interface Requester {
  request(method: HttpMethod, path: string, body?: unknown, options?: RequestOptions): Promise<ApiResponse>;
}

/** Statuses sys/health answers with a body: active, standby, DR secondary, perf standby, uninit, sealed. */
const HEALTH_STATUSES = [429, 472, 473, 501, 503] as const;

function parse<S extends z.ZodType>(schema: S, body: unknown, what: string): z.output<S> {
  const result = schema.safeParse(body);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
    throw new CofferClientError(`unexpected response from ${what}: ${issues}`);
  }
  return result.data;
}

/** sys/key-status and sys/rotate copy `data` to the top level; prefer `data` when present. */
function dataOrBody(body: unknown): unknown {
  if (typeof body === 'object' && body !== null && 'data' in body && typeof body.data === 'object' && body.data !== null) {
    return body.data;
  }
  return body;
}

/** Typed calls to the `sys/` backend. Reached as `client.sys`. */
export class SysApi {
  readonly #client: Requester;

  constructor(client: Requester) {
    this.#client = client;
  }

  async #call<S extends z.ZodType>(schema: S, method: HttpMethod, path: string, body?: unknown): Promise<z.output<S>> {
    const res = await this.#client.request(method, path, body);
    return parse(schema, res.body, `${method} ${path}`);
  }

  /** Whether the server has been initialized. @example `const { initialized } = await client.sys.initStatus();` */
  initStatus(): Promise<InitStatus> {
    return this.#call(initStatusSchema, 'GET', 'sys/init');
  }

  /** Initializes the server; returns the unseal keys (hex and base64) and the root token once. @example `const { keys_base64, root_token } = await client.sys.init({ secret_shares: 5, secret_threshold: 3 });` */
  init(request: InitRequest): Promise<InitResponse> {
    return this.#call(initResponseSchema, 'PUT', 'sys/init', request);
  }

  /** Seal type, sealed flag, threshold and unseal progress. @example `if ((await client.sys.sealStatus()).sealed) { ... }` */
  sealStatus(): Promise<SealStatus> {
    return this.#call(sealStatusSchema, 'GET', 'sys/seal-status');
  }

  /** Submits one unseal key share (hex or base64), or `{ reset: true }` to discard the progress. @example `await client.sys.unseal(keyB64);` */
  unseal(key: string | UnsealRequest): Promise<SealStatus> {
    return this.#call(sealStatusSchema, 'PUT', 'sys/unseal', typeof key === 'string' ? { key } : key);
  }

  /** Seals the server (needs a root or sudo token). @example `await client.sys.seal();` */
  async seal(): Promise<void> {
    await this.#client.request('PUT', 'sys/seal');
  }

  /** The health body for every documented status, with the status attached. @example `const h = await client.sys.health({ standbyok: true }); h.status === 200;` */
  async health(query: HealthQuery = {}): Promise<HealthResponse> {
    const res = await this.#client.request('GET', 'sys/health', undefined, { query: { ...query }, accept: HEALTH_STATUSES });
    return { ...parse(healthSchema, res.body, 'GET sys/health'), status: res.status };
  }

  /** HA state and the active node's address. @example `const { is_self, leader_address } = await client.sys.leader();` */
  leader(): Promise<LeaderResponse> {
    return this.#call(leaderSchema, 'GET', 'sys/leader');
  }

  /** Adds a new barrier encryption key term (old terms keep decrypting). @example `await client.sys.rotate();` */
  async rotate(): Promise<void> {
    await this.#client.request('PUT', 'sys/rotate');
  }

  /** The active barrier key's term, install time and encryption count. @example `const { term } = await client.sys.keyStatus();` */
  async keyStatus(): Promise<KeyStatus> {
    const res = await this.#client.request('GET', 'sys/key-status');
    return parse(keyStatusSchema, dataOrBody(res.body), 'GET sys/key-status');
  }

  /** Starts a rekey to a new share count and threshold. @example `const { nonce } = await client.sys.rekeyInit({ secret_shares: 5, secret_threshold: 3 });` */
  rekeyInit(request: RekeyInitRequest): Promise<RekeyStatus> {
    return this.#call(rekeyStatusSchema, 'PUT', 'sys/rekey/init', request);
  }

  /** The rekey in progress, if any (`started: false` otherwise). @example `const { started, progress } = await client.sys.rekeyStatus();` */
  rekeyStatus(): Promise<RekeyStatus> {
    return this.#call(rekeyStatusSchema, 'GET', 'sys/rekey/init');
  }

  /** Cancels the rekey in progress (no error when none is). @example `await client.sys.rekeyCancel();` */
  async rekeyCancel(): Promise<void> {
    await this.#client.request('DELETE', 'sys/rekey/init');
  }

  /** Submits one current unseal key for the rekey with this nonce; the last one returns the new keys. @example `const r = await client.sys.rekeyUpdate(key, nonce); if (r.complete) save(r.keys_base64);` */
  rekeyUpdate(key: string, nonce: string): Promise<RekeyUpdateResponse> {
    return this.#call(rekeyUpdateSchema, 'PUT', 'sys/rekey/update', { key, nonce });
  }

  /** Starts a root token generation; without `otp` the server generates one and returns it in `otp`. @example `const { nonce, otp } = await client.sys.generateRootInit();` */
  generateRootInit(otp?: string): Promise<GenerateRootStatus> {
    return this.#call(generateRootStatusSchema, 'PUT', 'sys/generate-root/attempt', otp === undefined ? {} : { otp });
  }

  /** The root generation in progress, if any (`started: false` otherwise), and the OTP length. @example `const { otp_length } = await client.sys.generateRootStatus();` */
  generateRootStatus(): Promise<GenerateRootStatus> {
    return this.#call(generateRootStatusSchema, 'GET', 'sys/generate-root/attempt');
  }

  /** Cancels the root generation in progress (no error when none is). @example `await client.sys.generateRootCancel();` */
  async generateRootCancel(): Promise<void> {
    await this.#client.request('DELETE', 'sys/generate-root/attempt');
  }

  /** Submits one unseal key; the last returns `encoded_token` (base64 of token XOR otp). @example `const r = await client.sys.generateRootUpdate(key, nonce); if (r.complete) decode(r.encoded_token, otp);` */
  generateRootUpdate(key: string, nonce: string): Promise<GenerateRootStatus> {
    return this.#call(generateRootStatusSchema, 'PUT', 'sys/generate-root/update', { key, nonce });
  }
}
