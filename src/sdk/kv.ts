import type { CofferClient, RequestOptions } from './client.js';
import { CofferClientError } from './errors.js';
import type { ListSecret, Secret } from './types.js';

/** The API prefixes of a KV version 2 mount. */
export type KvV2Prefix = 'data' | 'metadata' | 'delete' | 'undelete' | 'destroy' | 'subkeys';

/**
 * Where a `kv` path points, found as the Vault CLI finds it: the mount holding it (from
 * `sys/internal/ui/mounts/<path>`), the mount's KV version, and the path itself.
 */
export interface KvLocation {
  /** The mount, with a trailing slash (`secret/`); empty when the server did not say (then v1). */
  readonly mountPath: string;
  readonly version: 1 | 2;
  /** The path including the mount, without the v2 prefix: `secret/app/db`. */
  readonly path: string;
}

/** Options of a KV v2 write or patch. */
export interface KvWriteOptions {
  /** Check-and-set: write only if this is the current version (0: only if the secret does not exist). */
  cas?: number;
  wrapTtl?: string | number;
}

/** `metadata/<path>` fields that can be written. */
export interface KvMetadataInput {
  max_versions?: number;
  cas_required?: boolean;
  delete_version_after?: string;
  custom_metadata?: Record<string, string>;
}

/** Leading and trailing slashes and spaces removed, as the Vault CLI's sanitizePath. */
export function sanitizeKvPath(path: string): string {
  return path.trim().replace(/^\/+/, '').replace(/\/+$/, '');
}

/** Joins path parts with single slashes and no trailing slash (Go's path.Join, without resolving `..`). */
export function joinKvPath(...parts: readonly string[]): string {
  return parts
    .filter((p) => p !== '')
    .join('/')
    .replace(/\/{2,}/g, '/')
    .replace(/\/+$/, '');
}

/**
 * The API path of a KV v2 operation: `secret/app/db` in mount `secret/` with prefix `data` is
 * `secret/data/app/db`. When the path does not start with the mount (a mount reported with a
 * namespace prefix the path lacks), leading segments of the mount are dropped until it does, as
 * the Vault CLI does.
 * @example kvV2Path('secret/app/db', 'secret/', 'metadata') === 'secret/metadata/app/db'
 */
export function kvV2Path(path: string, mountPath: string, prefix: KvV2Prefix): string {
  let mount = mountPath;
  if (path === mount || path === mount.replace(/\/$/, '')) return joinKvPath(mount, prefix);
  let suffix = path.startsWith(mount) ? path.slice(mount.length) : path;
  while (suffix === path) {
    const slash = mount.indexOf('/');
    const rest = slash < 0 ? '' : mount.slice(slash + 1);
    if (rest === '') break;
    mount = rest.replace(/\/$/, '');
    suffix = path.startsWith(mount) ? path.slice(mount.length) : path;
  }
  return joinKvPath(mount, prefix, suffix);
}

function versionOf(options: unknown): 1 | 2 {
  if (typeof options !== 'object' || options === null || !('version' in options)) return 1;
  return String(options.version) === '2' ? 2 : 1;
}

/** Versions as numbers; `'1,2'` and `['1', '2']` are accepted. */
export function parseKvVersions(versions: readonly (string | number)[]): number[] {
  const out: number[] = [];
  for (const v of versions) {
    for (const part of String(v).split(',')) {
      const text = part.trim();
      if (text === '') continue;
      const n = Number(text);
      if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) throw new TypeError(`invalid version ${JSON.stringify(text)}: versions are whole numbers`);
      out.push(n);
    }
  }
  return out;
}

/**
 * Key/value secrets, version 1 and 2, through the same paths the Vault CLI's `kv` commands use.
 * Locate first, then operate; v2-only calls throw CofferClientError on a v1 mount.
 * @example
 * const at = await client.kv.locate('secret/app/db');
 * await client.kv.put(at, { password: 's3cret' });
 * const secret = await client.kv.get(at);  // secret?.data?.data
 */
export class KvApi {
  readonly #client: CofferClient;

  constructor(client: CofferClient) {
    this.#client = client;
  }

  /**
   * The mount holding `path` and its KV version (`sys/internal/ui/mounts/<path>`); a server without
   * that endpoint (404) counts as version 1, as in the Vault CLI.
   * @example const { mountPath, version } = await client.kv.mountInfo('secret/app');
   */
  async mountInfo(path: string): Promise<{ mountPath: string; version: 1 | 2 }> {
    const res = await this.#client.request('GET', `sys/internal/ui/mounts/${sanitizeKvPath(path)}`, undefined, { accept: [404] });
    if (res.status === 404) return { mountPath: '', version: 1 };
    const data = this.#client.parseSecret(res.body, 'GET sys/internal/ui/mounts').data ?? {};
    const mountPath = typeof data['path'] === 'string' ? data['path'] : '';
    return { mountPath, version: versionOf(data['options']) };
  }

  /**
   * Resolves a CLI-style path: `secret/app/db`, or `app/db` with `mount` = `secret`.
   * @example const at = await client.kv.locate('app/db', 'secret');
   */
  async locate(path: string, mount?: string): Promise<KvLocation> {
    const given = sanitizeKvPath(path);
    if (mount === undefined || sanitizeKvPath(mount) === '') {
      const info = await this.mountInfo(given);
      return { ...info, path: given };
    }
    const info = await this.mountInfo(sanitizeKvPath(mount));
    return { ...info, path: joinKvPath(info.mountPath || sanitizeKvPath(mount), given) };
  }

  /** The API path for an operation: v2 gets its prefix (`data/`, `metadata/`, ...), v1 the path itself. */
  apiPath(at: KvLocation, prefix: KvV2Prefix): string {
    return at.version === 2 ? kvV2Path(at.path, at.mountPath, prefix) : at.path;
  }

  /** Reads a secret (v2: the latest or `version`); null when there is none. A deleted v2 version still returns its metadata. */
  get(at: KvLocation, options: { version?: number; wrapTtl?: string | number } = {}): Promise<Secret | null> {
    const query = at.version === 2 && options.version !== undefined && options.version > 0 ? { version: options.version } : undefined;
    return this.#client.read(this.apiPath(at, 'data'), this.#opts(options.wrapTtl, query));
  }

  /** Writes a secret: a new version on v2 (with optional check-and-set), a replacement on v1. */
  put(at: KvLocation, data: Readonly<Record<string, unknown>>, options: KvWriteOptions = {}): Promise<Secret | null> {
    const body = at.version === 2 ? { data, options: options.cas === undefined ? {} : { cas: options.cas } } : data;
    return this.#client.write(this.apiPath(at, 'data'), body, this.#opts(options.wrapTtl));
  }

  /** Applies a JSON merge patch (HTTP PATCH, needs the `patch` capability) to the latest v2 version. */
  async patch(at: KvLocation, data: Readonly<Record<string, unknown>>, options: KvWriteOptions = {}): Promise<Secret | null> {
    this.#v2(at, 'patch');
    const path = this.apiPath(at, 'data');
    const body = { data, options: options.cas === undefined ? {} : { cas: options.cas } };
    const res = await this.#client.request('PATCH', path, body, {
      ...this.#opts(options.wrapTtl), headers: { 'Content-Type': 'application/merge-patch+json' },
    });
    return res.body === null ? null : this.#client.parseSecret(res.body, `PATCH ${path}`);
  }

  /** The keys under a folder (v2: from `metadata/`); null when empty. */
  list(at: KvLocation, options: { wrapTtl?: string | number } = {}): Promise<ListSecret | null> {
    return this.#client.list(this.apiPath(at, 'metadata'), this.#opts(options.wrapTtl));
  }

  /** v2: soft-deletes the latest version, or the given versions; v1: deletes the secret. */
  delete(at: KvLocation, versions: readonly number[] = []): Promise<Secret | null> {
    if (at.version === 2 && versions.length > 0) return this.#client.write(this.apiPath(at, 'delete'), { versions });
    return this.#client.delete(this.apiPath(at, 'data'));
  }

  /** v2: restores soft-deleted versions. */
  undelete(at: KvLocation, versions: readonly number[]): Promise<Secret | null> {
    this.#v2(at, 'undelete');
    return this.#client.write(this.apiPath(at, 'undelete'), { versions });
  }

  /** v2: removes the data of versions for good. */
  destroy(at: KvLocation, versions: readonly number[]): Promise<Secret | null> {
    this.#v2(at, 'destroy');
    return this.#client.write(this.apiPath(at, 'destroy'), { versions });
  }

  /** v2: the secret's metadata and version history; null when there is none. */
  readMetadata(at: KvLocation, options: { wrapTtl?: string | number } = {}): Promise<Secret | null> {
    this.#v2(at, 'metadata');
    return this.#client.read(this.apiPath(at, 'metadata'), this.#opts(options.wrapTtl));
  }

  /** v2: writes metadata settings (creates the metadata if needed). */
  writeMetadata(at: KvLocation, input: KvMetadataInput): Promise<Secret | null> {
    this.#v2(at, 'metadata');
    return this.#client.write(this.apiPath(at, 'metadata'), { ...input });
  }

  /** v2: deletes the secret: every version and its metadata. */
  deleteMetadata(at: KvLocation): Promise<Secret | null> {
    this.#v2(at, 'metadata');
    return this.#client.delete(this.apiPath(at, 'metadata'));
  }

  #v2(at: KvLocation, what: string): void {
    if (at.version !== 2) throw new CofferClientError(`${what} needs a KV version 2 mount; ${at.mountPath || at.path} is version 1`);
  }

  #opts(wrapTtl: string | number | undefined, query?: RequestOptions['query']): RequestOptions {
    return { ...(wrapTtl === undefined ? {} : { wrapTtl }), ...(query === undefined ? {} : { query }) };
  }
}
