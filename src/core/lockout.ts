import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { Storage } from '../storage/types.js';
import { getJson, putJson } from '../storage/view.js';
import { parseDurationSeconds } from '../util/duration.js';
import { invalid } from '../util/errors.js';
import { KeyedLock } from '../util/keyed-lock.js';

/** Vault 1.13+ defaults: 5 failures within 15 minutes lock the alias for 15 minutes. */
export const LOCKOUT_DEFAULTS = { threshold: 5, durationSeconds: 900, counterResetSeconds: 900 } as const;

export interface LockoutConfig {
  readonly threshold: number;
  readonly durationSeconds: number;
  readonly counterResetSeconds: number;
  readonly disabled: boolean;
}

/** The flat keys a mount's config holds (what `sys/auth/:path/tune` reads back, as Vault). */
export const LOCKOUT_CONFIG_KEYS = {
  threshold: 'user_lockout_threshold',
  duration: 'user_lockout_duration',
  counterReset: 'user_lockout_counter_reset_duration',
  disable: 'user_lockout_disable',
} as const;

/** What a mount's config says: 0 (or absent) means the default, as in Vault. */
export function lockoutConfigOf(config: Readonly<Record<string, unknown>> | undefined): LockoutConfig {
  const num = (key: string, fallback: number): number => {
    const v = config?.[key];
    return typeof v === 'number' && v > 0 ? v : fallback;
  };
  return {
    threshold: num(LOCKOUT_CONFIG_KEYS.threshold, LOCKOUT_DEFAULTS.threshold),
    durationSeconds: num(LOCKOUT_CONFIG_KEYS.duration, LOCKOUT_DEFAULTS.durationSeconds),
    counterResetSeconds: num(LOCKOUT_CONFIG_KEYS.counterReset, LOCKOUT_DEFAULTS.counterResetSeconds),
    disabled: config?.[LOCKOUT_CONFIG_KEYS.disable] === true,
  };
}

/**
 * `user_lockout_config` as sent to sys/auth (enable) or sys/auth/:path/tune: Vault's strings
 * ("3", "5s", "system" = back to the default, "" = unchanged) and a boolean `lockout_disable`.
 */
export const lockoutConfigInput = () => z.object({
  lockout_threshold: z.union([z.string(), z.number()]).nullish(),
  lockout_duration: z.union([z.string(), z.number()]).nullish(),
  lockout_counter_reset_duration: z.union([z.string(), z.number()]).nullish(),
  lockout_disable: z.union([z.boolean(), z.string()]).nullish(),
}).nullish();
export type LockoutConfigInput = z.output<ReturnType<typeof lockoutConfigInput>>;

/** The mount config keys to set from a `user_lockout_config` input (only those sent). */
export function lockoutExtras(input: LockoutConfigInput): Record<string, number | boolean> {
  const out: Record<string, number | boolean> = {};
  if (!input) return out;
  const value = (raw: string | number | null | undefined, key: string, what: string, isDuration: boolean): void => {
    if (raw === undefined || raw === null || raw === '') return;
    if (raw === 'system') { out[key] = 0; return; }
    const n = isDuration ? parseDurationSeconds(raw) : typeof raw === 'number' ? raw : /^\d+$/.test(raw.trim()) ? Number(raw) : undefined;
    if (n === undefined || !Number.isSafeInteger(n) || n < 0) throw invalid(`user_lockout_config: invalid ${what} ${JSON.stringify(raw)}`);
    out[key] = n;
  };
  value(input.lockout_threshold, LOCKOUT_CONFIG_KEYS.threshold, 'lockout_threshold', false);
  value(input.lockout_duration, LOCKOUT_CONFIG_KEYS.duration, 'lockout_duration', true);
  value(input.lockout_counter_reset_duration, LOCKOUT_CONFIG_KEYS.counterReset, 'lockout_counter_reset_duration', true);
  const d = input.lockout_disable;
  if (d !== undefined && d !== null && d !== '') {
    if (typeof d === 'boolean') out[LOCKOUT_CONFIG_KEYS.disable] = d;
    else if (['true', '1', 't'].includes(d.toLowerCase())) out[LOCKOUT_CONFIG_KEYS.disable] = true;
    else if (['false', '0', 'f'].includes(d.toLowerCase())) out[LOCKOUT_CONFIG_KEYS.disable] = false;
    else throw invalid('user_lockout_config: lockout_disable must be a boolean');
  }
  return out;
}

/** The lockout keys of a mount config, for the tune read (only those set, as Vault omits zeros). */
export function lockoutView(config: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.values(LOCKOUT_CONFIG_KEYS)) {
    const v = config[key];
    if ((typeof v === 'number' && v > 0) || v === true) out[key] = v;
  }
  return out;
}

const lockedSchema = z.object({ name: z.string(), lockedAt: z.number() });

interface Failures { count: number; last: number }

/** Bounds the in-memory failure table: guessing at many names must not grow memory without end. */
const MAX_TRACKED = 100_000;

/**
 * Failed-login tracking per (auth mount accessor, alias name), Vault 1.13+'s user lockout:
 * failure counts live in memory (per node, as Vault's); a lock, once reached, is stored inside
 * the barrier so it survives restarts and shows in sys/locked-users until it expires or is
 * unlocked. Unlike Vault, unknown names are counted too, so a lockout never tells an existing
 * user from a missing one.
 */
export class UserLockout {
  readonly #storage: Storage;
  readonly #configOf: (mountAccessor: string) => LockoutConfig | undefined;
  readonly #failures = new Map<string, Failures>();
  readonly #lock = new KeyedLock();

  /** `configOf` answers undefined for an accessor that is no longer mounted. */
  constructor(storage: Storage, configOf: (mountAccessor: string) => LockoutConfig | undefined) {
    this.#storage = storage;
    this.#configOf = configOf;
  }

  /** True while the alias is locked (the caller answers 403 without checking credentials). */
  async isLocked(mountAccessor: string, name: string, now = Date.now()): Promise<boolean> {
    const config = this.#configOf(mountAccessor);
    if (!config || config.disabled) return false;
    const raw = await getJson(this.#storage, keyOf(mountAccessor, name));
    if (raw === undefined) return false;
    const locked = lockedSchema.parse(raw);
    if (now - locked.lockedAt < config.durationSeconds * 1000) return true;
    // Expired: the alias starts over.
    await this.#storage.delete(keyOf(mountAccessor, name));
    this.#failures.delete(memKey(mountAccessor, name));
    return false;
  }

  /** Counts a failed login; the failure that reaches the threshold stores the lock. */
  async recordFailure(mountAccessor: string, name: string, now = Date.now()): Promise<void> {
    const config = this.#configOf(mountAccessor);
    if (!config || config.disabled) return;
    const key = memKey(mountAccessor, name);
    await this.#lock.run(key, async () => {
      const prev = this.#failures.get(key);
      const count = prev && now - prev.last <= config.counterResetSeconds * 1000 ? prev.count + 1 : 1;
      this.#failures.delete(key);
      this.#failures.set(key, { count, last: now });
      this.#trim(now);
      if (count >= config.threshold) await putJson(this.#storage, keyOf(mountAccessor, name), { name, lockedAt: now });
    });
  }

  /** A successful login clears the count. */
  clear(mountAccessor: string, name: string): void {
    this.#failures.delete(memKey(mountAccessor, name));
  }

  /** sys/locked-users/:accessor/unlock/:alias. */
  async unlock(mountAccessor: string, name: string): Promise<void> {
    this.#failures.delete(memKey(mountAccessor, name));
    await this.#storage.delete(keyOf(mountAccessor, name));
  }

  /** Locked aliases by mount accessor (expired locks are dropped on the way). */
  async listLocked(onlyAccessor?: string, now = Date.now()): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    const accessors = onlyAccessor === undefined
      ? (await this.#storage.list('')).filter((k) => k.endsWith('/')).map((k) => k.slice(0, -1))
      : [onlyAccessor];
    for (const accessor of accessors) {
      if (!/^[\w-]+$/.test(accessor)) continue;
      const config = this.#configOf(accessor);
      const names: string[] = [];
      for (const child of await this.#storage.list(`${accessor}/`)) {
        const raw = await getJson(this.#storage, `${accessor}/${child}`);
        const parsed = lockedSchema.safeParse(raw);
        if (!parsed.success) continue;
        if (!config || config.disabled || now - parsed.data.lockedAt >= config.durationSeconds * 1000) {
          await this.#storage.delete(`${accessor}/${child}`);
          continue;
        }
        names.push(parsed.data.name);
      }
      if (names.length > 0) out.set(accessor, names.sort());
    }
    return out;
  }

  #trim(now: number): void {
    if (this.#failures.size <= MAX_TRACKED) return;
    // Oldest first (a Map iterates in insertion order and updates re-insert).
    for (const [key, f] of this.#failures) {
      if (this.#failures.size <= MAX_TRACKED * 0.9 && now - f.last < LOCKOUT_DEFAULTS.counterResetSeconds * 1000) break;
      this.#failures.delete(key);
    }
  }
}

const memKey = (accessor: string, name: string): string => `${accessor}\u0000${name}`;
/** Names can hold any character; the key is a digest of it (the record keeps the name). */
const keyOf = (accessor: string, name: string): string => {
  if (!/^[\w-]+$/.test(accessor)) throw invalid('invalid mount accessor');
  return `${accessor}/${createHash('sha256').update(name, 'utf8').digest('hex')}`;
};
