import * as z from 'zod';
import type { CofferClient } from './client.js';
import { CofferClientError } from './errors.js';

const mountSchema = z.looseObject({
  type: z.string(),
  description: z.string().default(''),
  accessor: z.string().default(''),
  uuid: z.string().default(''),
  config: z
    .looseObject({
      default_lease_ttl: z.number().default(0),
      max_lease_ttl: z.number().default(0),
      force_no_cache: z.boolean().default(false),
      token_type: z.string().optional(),
    })
    .default({ default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false }),
  options: z.record(z.string(), z.string()).nullable().default(null),
  local: z.boolean().default(false),
  seal_wrap: z.boolean().default(false),
  external_entropy_access: z.boolean().default(false),
  plugin_version: z.string().default(''),
  running_plugin_version: z.string().default(''),
  running_sha256: z.string().default(''),
  deprecation_status: z.string().default(''),
});
/** One entry of `sys/mounts` or `sys/auth`. */
export type MountInfo = z.infer<typeof mountSchema>;

/** Mount settings, as `config` when enabling and as the body of `tune`. TTLs: `"1h"`, seconds, or `"system"`. */
export interface MountConfigInput {
  default_lease_ttl?: string;
  max_lease_ttl?: string;
  force_no_cache?: boolean;
  description?: string;
  options?: Record<string, string>;
  listing_visibility?: string;
  audit_non_hmac_request_keys?: string[];
  audit_non_hmac_response_keys?: string[];
  passthrough_request_headers?: string[];
  allowed_response_headers?: string[];
  token_type?: string;
}

/** The body of `sys/mounts/:path` and `sys/auth/:path`. */
export interface MountInput {
  type: string;
  description?: string;
  config?: MountConfigInput;
  options?: Record<string, string>;
  local?: boolean;
  seal_wrap?: boolean;
  external_entropy_access?: boolean;
}

const trimSlashes = (p: string): string => p.trim().replace(/^\/+|\/+$/g, '');

/**
 * One mount table: secrets engines (`sys/mounts`, `client.mounts`) or auth methods (`sys/auth`,
 * `client.authMounts`; all of it needs sudo).
 * @example
 * await client.mounts.enable('team-a', { type: 'kv', options: { version: '2' } });
 * const mounts = await client.mounts.list();  // { 'team-a/': { type: 'kv', ... }, ... }
 */
export class MountsApi {
  readonly #client: CofferClient;
  readonly #base: 'sys/mounts' | 'sys/auth';

  constructor(client: CofferClient, table: 'mounts' | 'auth') {
    this.#client = client;
    this.#base = table === 'mounts' ? 'sys/mounts' : 'sys/auth';
  }

  /** Every mount by path (`secret/`, ...). @example `const all = await client.mounts.list();` */
  async list(): Promise<Record<string, MountInfo>> {
    const secret = await this.#client.read(this.#base);
    const out: Record<string, MountInfo> = {};
    for (const [path, entry] of Object.entries(secret?.data ?? {})) {
      const parsed = mountSchema.safeParse(entry);
      if (!parsed.success) throw new CofferClientError(`unexpected response from GET ${this.#base}: bad entry for ${path}`);
      out[path] = parsed.data;
    }
    return out;
  }

  /** Mounts a new engine or method at `path`. @example `await client.authMounts.enable('userpass', { type: 'userpass' })` */
  async enable(path: string, input: MountInput): Promise<void> {
    await this.#client.request('POST', `${this.#base}/${trimSlashes(path)}`, input);
  }

  /** Unmounts `path`, deleting its data (no error when nothing is mounted there). @example `await client.mounts.disable('team-a')` */
  async disable(path: string): Promise<void> {
    await this.#client.request('DELETE', `${this.#base}/${trimSlashes(path)}`);
  }

  /** Changes TTLs, description, options...; returns the warnings, if any (e.g. a KV upgrade). @example `await client.mounts.tune('team-a', { max_lease_ttl: '72h' })` */
  async tune(path: string, config: MountConfigInput): Promise<string[]> {
    const res = await this.#client.request('POST', `${this.#base}/${trimSlashes(path)}/tune`, config);
    return res.body === null ? [] : (this.#client.parseSecret(res.body, `POST ${this.#base}/${path}/tune`).warnings ?? []);
  }

  /** The effective settings of a mount. @example `const { max_lease_ttl } = await client.mounts.readTune('secret');` */
  async readTune(path: string): Promise<Record<string, unknown>> {
    const secret = await this.#client.read(`${this.#base}/${trimSlashes(path)}/tune`);
    if (secret === null) throw new CofferClientError(`nothing is mounted at ${path}`);
    return secret.data ?? {};
  }

  /**
   * Moves a mount (with its data) to another path and waits for the move to finish; auth methods
   * are given as `auth/<path>`. Returns the migration id and its final status.
   * @example const { status } = await client.mounts.move('team-a', 'teams/a');
   */
  async move(from: string, to: string, poll: { intervalMs?: number; timeoutMs?: number } = {}): Promise<{ migrationId: string; status: string }> {
    const started = await this.#client.write('sys/remount', { from: trimSlashes(from), to: trimSlashes(to) });
    const id = started?.data?.['migration_id'];
    if (typeof id !== 'string' || id === '') throw new CofferClientError('unexpected response from POST sys/remount: no migration_id');
    const deadline = Date.now() + (poll.timeoutMs ?? 300_000);
    for (;;) {
      const status = await this.#client.read(`sys/remount/status/${id}`);
      const info = status?.data?.['migration_info'];
      const state = typeof info === 'object' && info !== null && 'status' in info && typeof info.status === 'string' ? info.status : '';
      if (state === 'success' || state === 'failure') return { migrationId: id, status: state };
      if (Date.now() > deadline) return { migrationId: id, status: state || 'unknown' };
      await new Promise((r) => setTimeout(r, poll.intervalMs ?? 1000));
    }
  }
}
