import * as z from 'zod';
import type { Storage } from '../../storage/types.js';
import { getJson, putJson } from '../../storage/view.js';
import { CofferError, invalid } from '../../util/errors.js';
import { KeyedLock } from '../../util/keyed-lock.js';
import { Key } from './key.js';
import { HMAC_MAX_KEY, HMAC_MIN_KEY, KEY_TYPES, TYPE_INFO, generateVersion, parseVersion, type KeyType } from './key-types.js';

/**
 * The transit key model and its storage, inside the mount's view (so under the barrier):
 *
 *   policy/<name>   one record per key: its settings and every kept version's material
 *   config/keys     engine settings (disable_upsert), written by paths-keys.ts
 *   config/cache    the cache-config value Vault clients may set (paths-misc.ts)
 *
 * Records are immutable once loaded; every change takes the key's lock, writes a new record and
 * only then replaces the cached copy, so readers never see half a change.
 */

const versionSchema = z.object({
  creation_time: z.string(),
  key: z.string(),
  hmac_key: z.string(),
  public_key: z.string().optional(),
});

const eventSchema = z.object({ time: z.string(), version: z.number().int() }).nullable();

export const recordSchema = z.object({
  name: z.string(),
  type: z.enum(KEY_TYPES),
  derived: z.boolean(),
  convergent_encryption: z.boolean(),
  /** Vault's convergent scheme version; Coffer only creates version 3 (nonce from an HMAC). */
  convergent_version: z.number().int(),
  exportable: z.boolean(),
  allow_plaintext_backup: z.boolean(),
  deletion_allowed: z.boolean(),
  min_decryption_version: z.number().int(),
  min_encryption_version: z.number().int(),
  min_available_version: z.number().int(),
  latest_version: z.number().int(),
  /** Seconds; 0 = no automatic rotation. */
  auto_rotate_period: z.number().int(),
  /** Bytes, hmac keys only (0 otherwise). */
  key_size: z.number().int(),
  backup_info: eventSchema,
  restore_info: eventSchema,
  versions: z.record(z.string(), versionSchema),
});
export type KeyRecord = z.infer<typeof recordSchema>;

/** Vault's GenericNameRegex: word characters, with '-', '.' and '@' inside. */
const NAME = /^\w(?:[\w\-.@]*\w)?$/;

export const isKeyName = (raw: string | undefined): raw is string => raw !== undefined && NAME.test(raw);

export function keyName(raw: string | undefined): string {
  if (!isKeyName(raw)) throw invalid(`invalid key name ${JSON.stringify(raw ?? '')}`);
  return raw;
}

export interface CreateOptions {
  readonly type: KeyType;
  readonly derived: boolean;
  readonly convergent: boolean;
  readonly exportable: boolean;
  readonly allowPlaintextBackup: boolean;
  readonly autoRotatePeriod: number;
  readonly keySize: number;
}

/** Checks a new key's settings the way Vault's lock manager does before it generates anything. */
export function checkCreateOptions(o: CreateOptions): void {
  const info = TYPE_INFO[o.type];
  if (o.convergent && !o.derived) throw invalid('convergent encryption requires derivation to be enabled');
  if (o.derived && !info.derivation) throw invalid(`key derivation and convergent encryption not supported for keys of type ${o.type}`);
  if (o.convergent && !info.aead) throw invalid(`convergent encryption not supported for keys of type ${o.type}`);
  if (o.autoRotatePeriod !== 0 && o.autoRotatePeriod < 3600) throw invalid('auto rotate period must be 0 to disable or at least an hour');
  if (o.keySize !== 0 && o.type !== 'hmac') throw invalid(`key_size is not valid for algorithm ${o.type}`);
  if (o.type === 'hmac' && o.keySize !== 0 && (o.keySize < HMAC_MIN_KEY || o.keySize > HMAC_MAX_KEY)) throw invalid(`invalid key_size ${o.keySize}`);
}

const BACKUP_MARKER = 'coffer-transit-backup';
const CACHE_LIMIT = 1024;

export class KeyStore {
  readonly #storage: Storage;
  readonly #now: () => number;
  readonly #lock = new KeyedLock();
  /** Most recently used last; bounded so callers who may create keys cannot grow memory without end. */
  readonly #cache = new Map<string, Key>();

  constructor(storage: Storage, options: { now?: () => number } = {}) {
    this.#storage = storage;
    this.#now = options.now ?? (() => Date.now());
  }

  now(): number { return this.#now(); }

  list(): Promise<string[]> {
    return this.#storage.list('policy/').then((keys) => keys.filter((k) => !k.endsWith('/')));
  }

  /** Whether the key exists, without side effects (existence checks run before authorization). */
  async has(name: string): Promise<boolean> {
    return (await this.#load(name)) !== undefined;
  }

  /**
   * The key for use. A key whose auto_rotate_period has passed is rotated first (see
   * docs/transit.md: rotation is lazy until the scheduler exists; `rotateDue` is the sweep).
   */
  async get(name: string): Promise<Key | undefined> {
    const key = await this.#load(name);
    if (!key || !this.#due(key.record)) return key;
    return this.#lock.run(name, async () => {
      const current = await this.#load(name);
      if (!current || !this.#due(current.record)) return current;
      return this.#persist(await this.#nextVersion(current.record));
    });
  }

  /** Creates the key unless it exists; `created` tells which. */
  create(name: string, o: CreateOptions): Promise<{ key: Key; created: boolean }> {
    checkCreateOptions(o);
    return this.#lock.run(name, async () => {
      const existing = await this.#load(name);
      if (existing) return { key: existing, created: false };
      const record: KeyRecord = {
        name, type: o.type, derived: o.derived, convergent_encryption: o.convergent, convergent_version: o.convergent ? 3 : 0,
        exportable: o.exportable, allow_plaintext_backup: o.allowPlaintextBackup, deletion_allowed: false,
        min_decryption_version: 1, min_encryption_version: 0, min_available_version: 0, latest_version: 0,
        auto_rotate_period: o.autoRotatePeriod, key_size: o.type === 'hmac' ? o.keySize || HMAC_MIN_KEY : 0,
        backup_info: null, restore_info: null, versions: {},
      };
      return { key: await this.#persist(await this.#nextVersion(record)), created: true };
    });
  }

  /** Read-modify-write of one key under its lock; `change` may throw to refuse. */
  modify(name: string, change: (r: KeyRecord) => KeyRecord | Promise<KeyRecord>): Promise<Key> {
    return this.#lock.run(name, async () => {
      const current = await this.#load(name);
      if (!current) throw invalid(`no existing key named ${name} could be found`);
      const next = await change(current.record);
      return next === current.record ? current : this.#persist(next);
    });
  }

  rotate(name: string): Promise<Key> {
    return this.modify(name, (r) => this.#nextVersion(r));
  }

  async remove(name: string): Promise<void> {
    await this.#lock.run(name, async () => {
      const current = await this.#load(name);
      if (!current) throw invalid(`error deleting key ${name}: could not delete key; not found`);
      if (!current.record.deletion_allowed) throw invalid(`error deleting key ${name}: deletion is not allowed for this key`);
      this.#cache.delete(name);
      await this.#storage.delete(`policy/${name}`);
    });
  }

  /** A plaintext backup (base64 JSON). Only for keys both exportable and allowing plaintext backup. */
  async backup(name: string): Promise<string> {
    const key = await this.modify(name, (r) => {
      if (!r.exportable) throw invalid('exporting is disallowed on the policy');
      if (!r.allow_plaintext_backup) throw invalid('plaintext backup is disallowed on the policy');
      return { ...r, backup_info: { time: new Date(this.#now()).toISOString(), version: r.latest_version } };
    });
    return Buffer.from(JSON.stringify({ [BACKUP_MARKER]: 1, policy: key.record }), 'utf8').toString('base64');
  }

  async restore(backup: string, rename: string | undefined, force: boolean): Promise<void> {
    const record = parseBackup(backup);
    const name = keyName(rename === undefined || rename === '' ? record.name : rename);
    await this.#lock.run(name, async () => {
      if (!force && (await this.#load(name))) throw invalid(`key "${name}" already exists`);
      await this.#persist({ ...record, name, restore_info: { time: new Date(this.#now()).toISOString(), version: record.latest_version } });
    });
  }

  /** Rotates every key whose period has passed; for the scheduler when it arrives. Returns their names. */
  async rotateDue(): Promise<string[]> {
    const rotated: string[] = [];
    for (const name of await this.list()) {
      const before = (await this.#load(name))?.record.latest_version;
      const after = (await this.get(name))?.record.latest_version;
      if (before !== undefined && after !== undefined && after > before) rotated.push(name);
    }
    return rotated;
  }

  #due(r: KeyRecord): boolean {
    if (r.auto_rotate_period <= 0) return false;
    const latest = r.versions[String(r.latest_version)];
    return latest !== undefined && this.#now() >= Date.parse(latest.creation_time) + r.auto_rotate_period * 1000;
  }

  async #nextVersion(r: KeyRecord): Promise<KeyRecord> {
    const version = await generateVersion(r.type, r.key_size, new Date(this.#now()));
    const latest = r.latest_version + 1;
    return { ...r, latest_version: latest, versions: { ...r.versions, [String(latest)]: version } };
  }

  async #load(name: string): Promise<Key | undefined> {
    const cached = this.#cache.get(name);
    if (cached) {
      this.#cache.delete(name);
      this.#cache.set(name, cached);
      return cached;
    }
    const raw = await getJson(this.#storage, `policy/${name}`);
    if (raw === undefined) return undefined;
    const parsed = recordSchema.safeParse(raw);
    if (!parsed.success) throw new CofferError('internal', 'stored transit key record is malformed');
    return this.#remember(new Key(parsed.data));
  }

  async #persist(record: KeyRecord): Promise<Key> {
    await putJson(this.#storage, `policy/${record.name}`, record);
    return this.#remember(new Key(record));
  }

  #remember(key: Key): Key {
    this.#cache.delete(key.record.name);
    this.#cache.set(key.record.name, key);
    if (this.#cache.size > CACHE_LIMIT) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    return key;
  }
}

/** A backup is untrusted input: every field and every version's key material is checked. */
function parseBackup(backup: string): KeyRecord {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(backup, 'base64').toString('utf8'));
  } catch {
    throw invalid('invalid backup: not a Coffer transit key backup');
  }
  const wrapper = z.object({ [BACKUP_MARKER]: z.literal(1), policy: recordSchema }).safeParse(decoded);
  if (!wrapper.success) throw invalid('invalid backup: not a Coffer transit key backup');
  const r = wrapper.data.policy;
  const info = TYPE_INFO[r.type];
  const versions = Object.keys(r.versions).map(Number);
  const sane = r.latest_version >= 1 && r.min_decryption_version >= 1 && versions.every((v) => Number.isSafeInteger(v) && v >= 1 && v <= r.latest_version)
    && r.versions[String(r.latest_version)] !== undefined && (r.type !== 'hmac' || (r.key_size >= HMAC_MIN_KEY && r.key_size <= HMAC_MAX_KEY));
  if (!sane) throw invalid('invalid backup: inconsistent key versions');
  for (const v of Object.values(r.versions)) {
    try {
      const m = parseVersion(r.type, v);
      if (info.aead && m.secret.length !== info.aead.keyBytes) throw new Error('key length');
      if (r.type === 'hmac' && m.secret.length !== r.key_size) throw new Error('key length');
      if (Number.isNaN(Date.parse(v.creation_time))) throw new Error('time');
    } catch {
      throw invalid('invalid backup: key material does not match the key type');
    }
  }
  return r;
}
