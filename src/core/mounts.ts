import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { PrefixView, collectKeys, getJson, jsonOp } from '../storage/view.js';
import type { Storage } from '../storage/types.js';
import { CofferError, invalid } from '../util/errors.js';
import { KeyedLock } from '../util/keyed-lock.js';
import { randomBase62 } from '../util/random.js';
import { PathTable, type Backend, type BackendFactory, type MountInfo } from './framework.js';

export type MountTableKind = 'secret' | 'auth';

const entrySchema = z.object({
  path: z.string(),
  type: z.string(),
  description: z.string(),
  uuid: z.string(),
  accessor: z.string(),
  config: z.object({ default_lease_ttl: z.number(), max_lease_ttl: z.number() }).catchall(z.unknown()),
  options: z.record(z.string(), z.string()),
  local: z.boolean(),
  seal_wrap: z.boolean(),
  builtin: z.boolean().optional(),
});
export type MountEntry = z.infer<typeof entrySchema>;

interface Mounted {
  readonly entry: MountEntry;
  readonly backend: Backend;
  readonly table: PathTable;
  readonly storage: Storage;
  readonly info: MountInfo;
}

export interface Resolved {
  readonly mounted: Mounted;
  /** Path relative to the mount. */
  readonly relative: string;
}

const TABLE_KEY: Record<MountTableKind, string> = { secret: 'core/mounts', auth: 'core/auth' };
const DATA_PREFIX: Record<MountTableKind, string> = { secret: 'logical/', auth: 'auth/' };
const ACCESSOR_PREFIX: Record<MountTableKind, string> = { secret: '', auth: 'auth_' };

/** Paths that can never be mounted over or under (they are the system's own). */
const PROTECTED = ['sys/', 'auth/', 'cubbyhole/', 'identity/'];

/**
 * Mount config beyond the TTLs, stored as given and echoed by sys/mounts (force_no_cache,
 * listing_visibility, audit_non_hmac_*_keys, passthrough/allowed headers, token_type).
 */
export type MountConfigExtras = Record<string, string | number | boolean | string[]>;

export interface MountRequest {
  path: string;
  type: string;
  description?: string;
  config?: { default_lease_ttl?: number; max_lease_ttl?: number; extras?: MountConfigExtras };
  options?: Record<string, string>;
  local?: boolean;
  seal_wrap?: boolean;
  builtin?: boolean;
}

/**
 * The mount table of one kind (secrets engines or auth methods) and its router: the longest
 * mounted prefix of a path picks the backend. Entries live inside the barrier.
 */
export class MountTable {
  readonly #kind: MountTableKind;
  readonly #barrier: Storage;
  readonly #factories: ReadonlyMap<string, BackendFactory>;
  readonly #systemTtl: { defaultLeaseTtl: number; maxLeaseTtl: number };
  #mounts = new Map<string, Mounted>();
  /** Table changes read-modify-write the whole stored table: one at a time, or one is lost. */
  readonly #changes = new KeyedLock();
  readonly #unmountListeners: ((fullPath: string, entry: MountEntry) => Promise<void>)[] = [];

  constructor(kind: MountTableKind, barrier: Storage, factories: ReadonlyMap<string, BackendFactory>, systemTtl: { defaultLeaseTtl: number; maxLeaseTtl: number }) {
    this.#kind = kind;
    this.#barrier = barrier;
    this.#factories = factories;
    this.#systemTtl = systemTtl;
  }

  /** Full path prefix of this table's mounts as the router sees them ('' or 'auth/'). */
  get routePrefix(): string { return this.#kind === 'auth' ? 'auth/' : ''; }

  async load(): Promise<void> {
    const raw = await getJson(this.#barrier, TABLE_KEY[this.#kind]);
    const entries = raw === undefined ? [] : z.array(entrySchema).parse(raw);
    const next = new Map<string, Mounted>();
    for (const e of entries) next.set(e.path, this.#instantiate(e));
    this.#mounts = next;
  }

  unload(): void {
    this.#mounts = new Map();
  }

  list(): MountEntry[] {
    return [...this.#mounts.values()].map((m) => m.entry).sort((a, b) => a.path.localeCompare(b.path));
  }

  get(path: string): MountEntry | undefined {
    return this.#mounts.get(normalizeMountPath(path))?.entry;
  }

  /** Longest mounted prefix of `path` (a full path with this table's route prefix stripped). */
  resolve(path: string): Resolved | undefined {
    let best: Mounted | undefined;
    for (const [mountPath, m] of this.#mounts) {
      if ((path.startsWith(mountPath) || path + '/' === mountPath) && (!best || mountPath.length > best.entry.path.length)) best = m;
    }
    if (!best) return undefined;
    return { mounted: best, relative: path.slice(Math.min(best.entry.path.length, path.length)) };
  }

  mount(req: MountRequest): Promise<MountEntry> {
    return this.#changes.run('table', () => this.#mount(req));
  }

  async #mount(req: MountRequest): Promise<MountEntry> {
    const path = normalizeMountPath(req.path);
    if (!this.#factories.has(req.type)) throw invalid(`plugin not found in the catalog: ${req.type}`);
    if (!req.builtin) this.#assertMountable(path);
    for (const existing of this.#mounts.keys()) {
      if (existing.startsWith(path) || path.startsWith(existing)) {
        throw invalid(`path is already in use at ${this.routePrefix}${existing}`);
      }
    }
    const entry: MountEntry = {
      path,
      type: req.type,
      description: req.description ?? '',
      uuid: randomUUID(),
      accessor: `${ACCESSOR_PREFIX[this.#kind]}${req.type}_${randomBase62(8).toLowerCase()}`,
      config: {
        ...req.config?.extras,
        default_lease_ttl: req.config?.default_lease_ttl ?? 0,
        max_lease_ttl: req.config?.max_lease_ttl ?? 0,
      },
      options: req.options ?? {},
      local: req.local ?? false,
      seal_wrap: req.seal_wrap ?? false,
      ...(req.builtin ? { builtin: true } : {}),
    };
    this.#validateTtls(entry.config);
    const mounted = this.#instantiate(entry);
    await this.#persist([...this.list(), entry]);
    this.#mounts.set(path, mounted);
    return entry;
  }

  /** Runs before a mount is removed (its leases are revoked then); a throw stops the unmount. */
  onUnmount(listener: (fullPath: string, entry: MountEntry) => Promise<void>): void {
    this.#unmountListeners.push(listener);
  }

  unmount(rawPath: string): Promise<void> {
    return this.#changes.run('table', () => this.#unmount(rawPath));
  }

  async #unmount(rawPath: string): Promise<void> {
    const path = normalizeMountPath(rawPath);
    const m = this.#mounts.get(path);
    if (!m) return;
    if (m.entry.builtin) throw invalid(`cannot unmount "${this.routePrefix}${path}"`);
    for (const listener of this.#unmountListeners) await listener(this.routePrefix + path, m.entry);
    await this.#persist(this.list().filter((e) => e.path !== path));
    this.#mounts.delete(path);
    // The data goes after the entry: a crash in between leaves orphaned ciphertext, never a
    // mount whose data is half gone.
    const keys = await collectKeys(m.storage);
    for (let i = 0; i < keys.length; i += 500) {
      await m.storage.transaction(keys.slice(i, i + 500).map((key) => ({ kind: 'delete' as const, key })));
    }
    await m.backend.cleanup?.();
  }

  /** `options`, when given, replaces the mount's options (the caller merges); extras are merged. */
  tune(rawPath: string, changes: TuneChanges): Promise<MountEntry> {
    return this.#changes.run('table', () => this.#tune(rawPath, changes));
  }

  async #tune(rawPath: string, changes: TuneChanges): Promise<MountEntry> {
    const path = normalizeMountPath(rawPath);
    const m = this.#mounts.get(path);
    if (!m) throw invalid(`no mount at ${this.routePrefix}${path}`);
    const entry: MountEntry = {
      ...m.entry,
      description: changes.description ?? m.entry.description,
      config: { ...m.entry.config, ...changes.extras, ...pickDefined({ default_lease_ttl: changes.default_lease_ttl, max_lease_ttl: changes.max_lease_ttl }) },
      options: changes.options ?? m.entry.options,
    };
    if (entry.options['version'] !== m.entry.options['version'] && m.entry.type === 'kv' && m.entry.options['version'] === '2' ) {
      throw invalid('cannot downgrade a KV version 2 mount to version 1');
    }
    this.#validateTtls(entry.config);
    await this.#persist(this.list().map((e) => (e.path === path ? entry : e)));
    this.#mounts.set(path, this.#instantiate(entry));
    return entry;
  }

  /** Moves a mount and its data to a new path (data keys are by uuid, so only the entry moves). */
  remount(rawFrom: string, rawTo: string): Promise<MountEntry> {
    return this.#changes.run('table', () => this.#remount(rawFrom, rawTo));
  }

  async #remount(rawFrom: string, rawTo: string): Promise<MountEntry> {
    const from = normalizeMountPath(rawFrom);
    const to = normalizeMountPath(rawTo);
    const m = this.#mounts.get(from);
    if (!m) throw invalid(`no mount at ${this.routePrefix}${from}`);
    if (m.entry.builtin) throw invalid(`cannot remount "${this.routePrefix}${from}"`);
    this.#assertMountable(to);
    for (const existing of this.#mounts.keys()) {
      if (existing !== from && (existing.startsWith(to) || to.startsWith(existing))) throw invalid(`path is already in use at ${this.routePrefix}${existing}`);
    }
    const entry: MountEntry = { ...m.entry, path: to };
    await this.#persist(this.list().map((e) => (e.path === from ? entry : e)));
    this.#mounts.delete(from);
    this.#mounts.set(to, this.#instantiate(entry));
    return entry;
  }

  /** Effective TTLs for a mount: its own when set, else the system's; max never above system max. */
  ttlsOf(entry: MountEntry): { defaultLeaseTtl: number; maxLeaseTtl: number } {
    const max = entry.config.max_lease_ttl > 0 ? Math.min(entry.config.max_lease_ttl, this.#systemTtl.maxLeaseTtl) : this.#systemTtl.maxLeaseTtl;
    const def = entry.config.default_lease_ttl > 0 ? entry.config.default_lease_ttl : this.#systemTtl.defaultLeaseTtl;
    return { defaultLeaseTtl: Math.min(def, max), maxLeaseTtl: max };
  }

  #instantiate(entry: MountEntry): Mounted {
    const factory = this.#factories.get(entry.type);
    if (!factory) throw new CofferError('internal', `mount ${entry.path} has unknown type ${entry.type}`);
    const storage = new PrefixView(this.#barrier, `${DATA_PREFIX[this.#kind]}${entry.uuid}/`);
    const ttls = this.ttlsOf(entry);
    const mount: MountInfo = {
      path: this.routePrefix + entry.path, type: entry.type, uuid: entry.uuid, accessor: entry.accessor,
      defaultLeaseTtl: ttls.defaultLeaseTtl, maxLeaseTtl: ttls.maxLeaseTtl, options: entry.options,
    };
    const backend = factory({ mount, storage });
    return { entry, backend, table: new PathTable(backend.paths), storage, info: mount };
  }

  #assertMountable(path: string): void {
    const full = this.routePrefix + path;
    for (const p of PROTECTED) {
      if (this.#kind === 'auth' && p === 'auth/') continue;
      if (full.startsWith(p) || p.startsWith(full)) throw invalid(`cannot mount at "${full}": reserved path`);
    }
  }

  #validateTtls(config: { default_lease_ttl: number; max_lease_ttl: number }): void {
    if (config.max_lease_ttl > this.#systemTtl.maxLeaseTtl) throw invalid('max_lease_ttl cannot be greater than the system max lease TTL');
    if (config.max_lease_ttl > 0 && config.default_lease_ttl > config.max_lease_ttl) throw invalid('default_lease_ttl cannot be greater than max_lease_ttl');
    if (config.max_lease_ttl === 0 && config.default_lease_ttl > this.#systemTtl.maxLeaseTtl) throw invalid('default_lease_ttl cannot be greater than the system max lease TTL');
  }

  async #persist(entries: MountEntry[]): Promise<void> {
    await this.#barrier.transaction([jsonOp(TABLE_KEY[this.#kind], entries)]);
  }
}

export interface TuneChanges {
  default_lease_ttl?: number;
  max_lease_ttl?: number;
  description?: string;
  options?: Record<string, string>;
  extras?: MountConfigExtras;
}

export function normalizeMountPath(path: string): string {
  const p = path.replace(/^\/+/, '');
  if (p.length === 0 || p === '/') throw invalid('mount path must not be empty');
  if (p.split('/').some((s, i, all) => (s === '' && i !== all.length - 1) || s === '.' || s === '..')) throw invalid(`invalid mount path ${JSON.stringify(path)}`);
  return p.endsWith('/') ? p : `${p}/`;
}

function pickDefined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
