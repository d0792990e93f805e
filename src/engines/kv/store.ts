import * as z from 'zod';
import type { Storage, StorageOp } from '../../storage/types.js';
import { frozenJson, getDecoded, getJson, jsonOp, type DeepReadonly } from '../../storage/view.js';
import { CofferError, invalid } from '../../util/errors.js';
import { KeyedLock } from '../../util/keyed-lock.js';

/**
 * The on-disk model of a KV v2 mount, inside the mount's storage view:
 *
 *   config             the engine settings (max_versions, cas_required, delete_version_after)
 *   meta/<path>        one metadata record per secret, with the state of every kept version
 *   ver/<path>/<n>     one record per version holding that version's data
 *
 * Secret paths become storage key segments, so LIST of a folder is one `storage.list` on
 * `meta/<folder>/` (a seek per child), never a scan. `ver/<path>/<n>` is unambiguous because
 * a secret path never ends in '/' and `<n>` is always the last segment.
 */

/** Vault keeps 10 versions when neither the config nor the key sets max_versions. */
export const DEFAULT_MAX_VERSIONS = 10;

const versionMetaSchema = z.object({
  created_time: z.string(),
  /** '' when not deleted; may lie in the future (delete_version_after). */
  deletion_time: z.string(),
  destroyed: z.boolean(),
});
export type VersionMeta = z.infer<typeof versionMetaSchema>;

const keyMetaSchema = z.object({
  created_time: z.string(),
  updated_time: z.string(),
  current_version: z.number().int(),
  oldest_version: z.number().int(),
  max_versions: z.number().int(),
  cas_required: z.boolean(),
  /** Seconds; 0 = not set. */
  delete_version_after: z.number().int(),
  custom_metadata: z.record(z.string(), z.string()).nullable(),
  versions: z.record(z.string(), versionMetaSchema),
});
export type KeyMeta = z.infer<typeof keyMetaSchema>;

const configSchema = z.object({
  max_versions: z.number().int(),
  cas_required: z.boolean(),
  /** Seconds; 0 = not set, negative = disabled for every key. */
  delete_version_after: z.number().int(),
});
export type KvConfig = z.infer<typeof configSchema>;

const versionRecordSchema = z.object({ data: z.record(z.string(), z.unknown()) });

const META_DECODER = frozenJson((raw) => parseStored(keyMetaSchema, raw, 'kv metadata'));
const VERSION_DECODER = frozenJson((raw) => parseStored(versionRecordSchema, raw, 'kv version'));

const CONFIG_KEY = 'config';
const EMPTY_CONFIG: KvConfig = { max_versions: 0, cas_required: false, delete_version_after: 0 };

/**
 * Checks a mount-relative secret path before it becomes part of a storage key. The pipeline has
 * already normalized the request path; this is the second lock on the door. Returns undefined
 * for paths that name no secret (empty, or a folder ending in '/').
 */
export function secretPath(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '' || raw.endsWith('/')) return undefined;
  assertSegments(raw);
  return raw;
}

/** A folder to list: '' (the root) or a path ending in '/'. */
export function folderPath(raw: string | undefined): string {
  if (raw === undefined || raw === '') return '';
  const folder = raw.endsWith('/') ? raw : `${raw}/`;
  assertSegments(folder.slice(0, -1));
  return folder;
}

function assertSegments(path: string): void {
  // eslint-disable-next-line no-control-regex
  if (path.startsWith('/') || /[\u0000-\u001f\u007f\\]/.test(path)) throw invalid('invalid secret path');
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.' || seg === '..') throw invalid('invalid secret path');
  }
}

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Storage access for one KV v2 mount, plus the per-secret lock every read-modify-write holds. */
export class KvStore {
  readonly #storage: Storage;
  readonly lock = new KeyedLock();

  constructor(storage: Storage) {
    this.#storage = storage;
  }

  async config(): Promise<KvConfig> {
    const raw = await getJson(this.#storage, CONFIG_KEY);
    return raw === undefined ? { ...EMPTY_CONFIG } : parseStored(configSchema, raw, 'kv config');
  }

  async meta(path: string): Promise<KeyMeta | undefined> {
    const raw = await getJson(this.#storage, metaKey(path));
    return raw === undefined ? undefined : parseStored(keyMetaSchema, raw, 'kv metadata');
  }

  /**
   * For reads that change nothing: metadata and data shared through the barrier's decoded cache
   * (parsed once per write, frozen). Read-modify-write paths use meta()/versionData().
   */
  sharedMeta(path: string): Promise<DeepReadonly<KeyMeta> | undefined> {
    return getDecoded(this.#storage, metaKey(path), META_DECODER);
  }

  async sharedVersionData(path: string, version: number): Promise<DeepReadonly<Record<string, unknown>> | undefined> {
    return (await getDecoded(this.#storage, versionKey(path, version), VERSION_DECODER))?.data;
  }

  async versionData(path: string, version: number): Promise<Record<string, unknown> | undefined> {
    const raw = await getJson(this.#storage, versionKey(path, version));
    return raw === undefined ? undefined : parseStored(versionRecordSchema, raw, 'kv version').data;
  }

  /** Direct children of a folder of secrets: names, and sub-folders ending in '/'. */
  list(folder: string): Promise<string[]> {
    return this.#storage.list(`meta/${folder}`);
  }

  /** Applies every change of one operation atomically. */
  commit(ops: readonly StorageOp[]): Promise<void> {
    return this.#storage.transaction(ops);
  }

  configOp(config: KvConfig): StorageOp { return jsonOp(CONFIG_KEY, config); }
  metaOp(path: string, meta: KeyMeta): StorageOp { return jsonOp(metaKey(path), meta); }
  deleteMetaOp(path: string): StorageOp { return { kind: 'delete', key: metaKey(path) }; }
  versionOp(path: string, version: number, data: Record<string, unknown>): StorageOp { return jsonOp(versionKey(path, version), { data }); }
  deleteVersionOp(path: string, version: number): StorageOp { return { kind: 'delete', key: versionKey(path, version) }; }
}

const metaKey = (path: string): string => `meta/${path}`;
const versionKey = (path: string, version: number): string => `ver/${path}/${version}`;

function parseStored<T>(schema: z.ZodType<T>, raw: unknown, what: string): T {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new CofferError('internal', `stored ${what} record is malformed`);
  return parsed.data;
}

// ---- the model's rules --------------------------------------------------------

export function newKeyMeta(now: string): KeyMeta {
  return {
    created_time: now, updated_time: now, current_version: 0, oldest_version: 0, max_versions: 0,
    cas_required: false, delete_version_after: 0, custom_metadata: null, versions: {},
  };
}

/** A version is readable unless destroyed or its deletion time has passed. */
export function isLive(vm: DeepReadonly<VersionMeta>, nowMs = Date.now()): boolean {
  if (vm.destroyed) return false;
  return vm.deletion_time === '' || Date.parse(vm.deletion_time) > nowMs;
}

/** deletion_time for a version written (or undeleted) now: the smaller non-zero of config and key setting. */
export function scheduledDeletion(nowMs: number, config: KvConfig, meta: KeyMeta): string {
  if (config.delete_version_after < 0) return '';
  const candidates = [config.delete_version_after, meta.delete_version_after].filter((s) => s > 0);
  if (candidates.length === 0) return '';
  return new Date(nowMs + Math.min(...candidates) * 1000).toISOString();
}

/**
 * Adds the next version to `meta` and slides the window of kept versions, as Vault does: the
 * limit is the larger of the key's and the config's max_versions, else 10. Returns the new
 * metadata and the version numbers whose records must be deleted.
 */
export function addVersion(meta: KeyMeta, createdTime: string, deletionTime: string, configMax: number): { meta: KeyMeta; trimmed: number[] } {
  const current = meta.current_version + 1;
  const versions: Record<string, VersionMeta> = { ...meta.versions, [current]: { created_time: createdTime, deletion_time: deletionTime, destroyed: false } };
  const max = Math.max(meta.max_versions, configMax) > 0 ? Math.max(meta.max_versions, configMax) : DEFAULT_MAX_VERSIONS;
  let oldest = meta.oldest_version;
  const trimmed: number[] = [];
  if (current - oldest >= max) {
    const last = current - max;
    for (let v = oldest; v <= last; v++) {
      if (v > 0) trimmed.push(v);
      delete versions[v];
    }
    oldest = last + 1;
  }
  return {
    meta: { ...meta, current_version: current, oldest_version: oldest, updated_time: createdTime, versions },
    trimmed,
  };
}

/**
 * Check-and-set: when `options.cas` is given it must equal the current version (0 = the key
 * must not exist yet); when the config or the key requires CAS it must be given.
 */
export function checkCas(options: unknown, config: KvConfig, meta: KeyMeta): void {
  const cas = isPlainObject(options) && 'cas' in options && options['cas'] !== null ? options['cas'] : undefined;
  if (cas === undefined) {
    if (config.cas_required || meta.cas_required) throw invalid('check-and-set parameter required for this call');
    return;
  }
  const n = typeof cas === 'number' ? cas : typeof cas === 'string' && /^\s*-?\d+\s*$/.test(cas) ? Number(cas) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw invalid('error parsing check-and-set parameter');
  if (n !== meta.current_version) throw new CofferError('cas_mismatch', 'check-and-set parameter did not match the current version');
}

/** The per-version metadata Vault returns from data reads and writes. */
export function versionView(meta: DeepReadonly<KeyMeta>, version: number, vm: DeepReadonly<VersionMeta>): Record<string, unknown> {
  return {
    created_time: vm.created_time,
    custom_metadata: meta.custom_metadata,
    deletion_time: vm.deletion_time,
    destroyed: vm.destroyed,
    version,
  };
}

/** Seconds as Go's time.Duration prints them ("0s", "5m0s", "3h25m19s"), as Vault returns durations. */
export function goDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  const sign = seconds < 0 ? '-' : '';
  let s = Math.abs(seconds);
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (h > 0) return `${sign}${h}h${m}m${s}s`;
  if (m > 0) return `${sign}${m}m${s}s`;
  return `${sign}${s}s`;
}
