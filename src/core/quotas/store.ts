import * as z from 'zod';
import type { Storage } from '../../storage/types.js';
import { getJson, putJson } from '../../storage/view.js';
import { invalid } from '../../util/errors.js';
import { exemptMatcher, Limiter, type QuotaGate, type QuotaVerdict, type RateLimitRule } from './limiter.js';

/**
 * Rate-limit quotas (`sys/quotas/rate-limit/:name`) and their configuration (`sys/quotas/config`),
 * kept in a barrier view of their own and loaded at every unseal. The store is also the gate the
 * HTTP layer asks before it routes a request.
 */

/** Vault's default exempt paths, the config's initial `rate_limit_exempt_paths`. */
export const DEFAULT_EXEMPT_PATHS: readonly string[] = [
  'sys/generate-recovery-token/attempt',
  'sys/generate-recovery-token/update',
  'sys/generate-root/attempt',
  'sys/generate-root/update',
  'sys/health',
  'sys/seal-status',
  'sys/unseal',
];

export interface QuotaConfig {
  readonly enableRateLimitAuditLogging: boolean;
  readonly enableRateLimitResponseHeaders: boolean;
  readonly rateLimitExemptPaths: readonly string[];
}

export interface RateLimitQuota extends RateLimitRule {
  /** The path as the operator gave it, normalized (`secret/`, `secret/data/foo`, ''). */
  readonly path: string;
  readonly inheritable: boolean;
}

/** A quota request before its path is resolved against the mount tables. */
export interface RateLimitInput {
  readonly name: string;
  readonly path: string;
  readonly rate: number;
  readonly interval: number;
  readonly blockInterval: number;
  readonly inheritable: boolean | undefined;
}

/** Finds the mount a path is under: its mount path (`secret/`, `auth/userpass/`) and the rest. */
export type MountOf = (path: string) => { mountPath: string; rest: string } | undefined;

const DEFAULT_CONFIG: QuotaConfig = { enableRateLimitAuditLogging: false, enableRateLimitResponseHeaders: false, rateLimitExemptPaths: DEFAULT_EXEMPT_PATHS };

const configSchema = z.object({
  enable_rate_limit_audit_logging: z.boolean(),
  enable_rate_limit_response_headers: z.boolean(),
  rate_limit_exempt_paths: z.array(z.string()),
});
const quotaSchema = z.object({
  name: z.string(), path: z.string(), mount_path: z.string(), path_suffix: z.string(),
  rate: z.number().positive(), interval: z.number().int().positive(), block_interval: z.number().int().nonnegative(), inheritable: z.boolean(),
});

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
export const checkQuotaName = (name: string): string => {
  if (!NAME.test(name)) throw invalid(`invalid quota name ${JSON.stringify(name)}`);
  return name;
};

const CONFIG_KEY = 'config';
const RATE_LIMIT = 'rate-limit/';

export class QuotaStore implements QuotaGate {
  readonly #s: Storage;
  readonly #mountOf: MountOf;
  #quotas = new Map<string, RateLimitQuota>();
  #config: QuotaConfig = DEFAULT_CONFIG;
  #exempt: (path: string) => boolean = exemptMatcher(DEFAULT_EXEMPT_PATHS);
  #limiter: Limiter | undefined;
  #tail: Promise<void> = Promise.resolve();
  /** Read by the HTTP layer on every request: false unless a quota exists and the store is loaded. */
  active = false;

  constructor(storage: Storage, mountOf: MountOf) {
    this.#s = storage;
    this.#mountOf = mountOf;
  }

  async load(): Promise<void> {
    const raw = await getJson(this.#s, CONFIG_KEY);
    const parsed = configSchema.safeParse(raw);
    this.#setConfig(parsed.success ? {
      enableRateLimitAuditLogging: parsed.data.enable_rate_limit_audit_logging,
      enableRateLimitResponseHeaders: parsed.data.enable_rate_limit_response_headers,
      rateLimitExemptPaths: parsed.data.rate_limit_exempt_paths,
    } : DEFAULT_CONFIG);
    const quotas = new Map<string, RateLimitQuota>();
    for (const name of await this.#s.list(RATE_LIMIT)) {
      const q = quotaSchema.safeParse(await getJson(this.#s, RATE_LIMIT + name));
      if (!q.success) continue;
      const d = q.data;
      quotas.set(d.name, { name: d.name, path: d.path, mountPath: d.mount_path, pathSuffix: d.path_suffix, rate: d.rate, interval: d.interval, blockInterval: d.block_interval, inheritable: d.inheritable });
    }
    this.#quotas = quotas;
    this.#compile(undefined);
  }

  unload(): void {
    this.active = false;
    this.#limiter = undefined;
    this.#quotas = new Map();
    this.#setConfig(DEFAULT_CONFIG);
  }

  get config(): QuotaConfig {
    return this.#config;
  }

  setConfig(changes: Partial<QuotaConfig>): Promise<void> {
    return this.#serial(() => this.#writeConfig(changes));
  }

  async #writeConfig(changes: Partial<QuotaConfig>): Promise<void> {
    const next: QuotaConfig = { ...this.#config, ...changes };
    await putJson(this.#s, CONFIG_KEY, {
      enable_rate_limit_audit_logging: next.enableRateLimitAuditLogging,
      enable_rate_limit_response_headers: next.enableRateLimitResponseHeaders,
      rate_limit_exempt_paths: next.rateLimitExemptPaths,
    });
    this.#setConfig(next);
  }

  get(name: string): RateLimitQuota | undefined {
    return this.#quotas.get(checkQuotaName(name));
  }

  list(): string[] {
    return [...this.#quotas.keys()].sort();
  }

  /** Creates or replaces a quota; every problem is found before anything is stored. */
  put(input: RateLimitInput): Promise<void> {
    return this.#serial(() => this.#put(input));
  }

  delete(name: string): Promise<void> {
    return this.#serial(async () => {
      await this.#s.delete(RATE_LIMIT + checkQuotaName(name));
      this.#quotas.delete(name);
      this.#compile(this.#limiter);
    });
  }

  /** A mount's quotas go with it, as in Vault (a new mount at the same path starts without them). */
  deleteForMount(mountPath: string): Promise<void> {
    return this.#serial(async () => {
      for (const q of [...this.#quotas.values()]) {
        if (q.mountPath !== mountPath) continue;
        await this.#s.delete(RATE_LIMIT + q.name);
        this.#quotas.delete(q.name);
      }
      this.#compile(this.#limiter);
    });
  }

  /** Writes one at a time, so that the conflict check sees every quota stored before. */
  #serial(work: () => Promise<void>): Promise<void> {
    const run = this.#tail.then(work);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #put(input: RateLimitInput): Promise<void> {
    const name = checkQuotaName(input.name);
    if (!(Number.isFinite(input.rate) && input.rate > 0)) throw invalid(`'rate' is invalid: it must be greater than 0`);
    if (input.interval < 0) throw invalid(`'interval' is invalid`);
    if (input.blockInterval < 0) throw invalid(`'block_interval' is invalid`);
    const path = input.path.trim().replace(/^\/+/, '');
    let mountPath = '';
    let pathSuffix = '';
    if (path !== '') {
      if (path.includes('*') && !(path.endsWith('*') && path.indexOf('*') === path.length - 1)) throw invalid('a glob (*) is only allowed at the end of the path');
      const found = this.#mountOf(path.endsWith('*') ? path.slice(0, -1) : path);
      if (!found) throw invalid(`invalid mount path ${JSON.stringify(path)}`);
      mountPath = found.mountPath;
      pathSuffix = path.endsWith('*') ? `${found.rest}*` : found.rest;
      if (pathSuffix === '*') pathSuffix = ''; // `secret/*` is the whole mount
    }
    if (input.inheritable === true && mountPath !== '') throw invalid('inheritable is only supported on global quotas (namespaces do not exist here)');
    for (const other of this.#quotas.values()) {
      if (other.name !== name && other.mountPath === mountPath && other.pathSuffix === pathSuffix) {
        throw invalid(`quota rule with similar properties exists under the name "${other.name}"`);
      }
    }
    const quota: RateLimitQuota = {
      name, path: mountPath + pathSuffix, mountPath, pathSuffix, rate: input.rate,
      interval: input.interval === 0 ? 1 : input.interval, blockInterval: input.blockInterval,
      inheritable: input.inheritable ?? mountPath === '',
    };
    await putJson(this.#s, RATE_LIMIT + name, {
      name, path: quota.path, mount_path: mountPath, path_suffix: pathSuffix, rate: quota.rate,
      interval: quota.interval, block_interval: quota.blockInterval, inheritable: quota.inheritable,
    });
    this.#quotas.set(name, quota);
    this.#compile(this.#limiter);
  }

  /** The HTTP layer's check, before routing: undefined when the path is exempt or no quota applies. */
  check(path: string, clientIp: string, nowMs = Date.now()): QuotaVerdict | undefined {
    const limiter = this.#limiter;
    if (!limiter || this.#exempt(path)) return undefined;
    return limiter.take(path, clientIp, nowMs, this.#config.enableRateLimitResponseHeaders);
  }

  #setConfig(config: QuotaConfig): void {
    this.#config = config;
    this.#exempt = exemptMatcher(config.rateLimitExemptPaths);
  }

  #compile(previous: Limiter | undefined): void {
    const limiter = new Limiter([...this.#quotas.values()], previous);
    this.#limiter = limiter.size > 0 ? limiter : undefined;
    this.active = this.#limiter !== undefined;
  }
}
