import * as z from 'zod';
import { bool, duration, int } from '../../core/fields.js';
import { definePath, type PathSpec } from '../../core/framework.js';
import type { CoreResponse } from '../../core/request.js';
import type { Storage } from '../../storage/types.js';
import { getJson, putJson } from '../../storage/view.js';
import { invalid, notFound } from '../../util/errors.js';
import type { Key } from './key.js';
import { TYPE_INFO, formatPublicKey, isKeyType } from './key-types.js';
import { optionalBase64, text } from './input.js';
import { keyName, type KeyRecord, type KeyStore } from './keys.js';

const createFields = z.object({
  type: text().optional(),
  derived: bool().optional(),
  convergent_encryption: bool().optional(),
  exportable: bool().optional(),
  allow_plaintext_backup: bool().optional(),
  auto_rotate_period: duration().optional(),
  key_size: int().optional(),
  context: text().optional(),
});

const configFields = z.object({
  min_decryption_version: int().optional(),
  min_encryption_version: int().optional(),
  deletion_allowed: bool().optional(),
  exportable: bool().optional(),
  allow_plaintext_backup: bool().optional(),
  auto_rotate_period: duration().optional(),
});

/** keys, keys/:name, keys/:name/config|rotate|trim and config/keys. */
export function keyPaths(store: KeyStore, storage: Storage): PathSpec[] {
  return [
    definePath({
      pattern: 'keys',
      help: 'List the names of the transit keys.',
      operations: {
        list: async () => {
          const keys = await store.list();
          if (keys.length === 0) throw notFound();
          return { data: { keys } };
        },
      },
    }),
    definePath({
      pattern: 'keys/:name/config',
      help: 'Tune a key: min_decryption_version, min_encryption_version, deletion_allowed, exportable, allow_plaintext_backup, auto_rotate_period.',
      fields: configFields,
      fieldHelp: {
        min_decryption_version: 'Oldest version allowed to decrypt, verify signatures and verify HMACs (0 means 1).',
        min_encryption_version: 'Oldest version allowed to encrypt, sign and HMAC (0 = only the latest).',
        deletion_allowed: 'Whether DELETE keys/:name may remove the key.',
        exportable: 'Allow export (cannot be turned off again).',
        allow_plaintext_backup: 'Allow plaintext backup (cannot be turned off again).',
        auto_rotate_period: 'Rotate automatically after this long (0 disables; at least 1h).',
      },
      operations: { update: async (ctx) => configure(store, keyName(ctx.params['name']), ctx.data) },
    }),
    definePath({
      pattern: 'keys/:name/rotate',
      help: 'Add a new version of the key; new encryptions and signatures use it.',
      operations: {
        update: async (ctx) => {
          const name = keyName(ctx.params['name']);
          const key = await store.rotate(name);
          return { data: keyView(key, undefined) };
        },
      },
    }),
    definePath({
      pattern: 'keys/:name/trim',
      help: 'Delete the key versions below min_available_version for good.',
      fields: z.object({ min_available_version: int().optional() }),
      operations: { update: async (ctx) => trim(store, keyName(ctx.params['name']), ctx.data.min_available_version) },
    }),
    definePath({
      pattern: 'keys/:name',
      help: 'Create, read and delete a named key.',
      fields: createFields,
      fieldHelp: {
        type: 'aes128-gcm96, aes256-gcm96 (default), chacha20-poly1305, ed25519, ecdsa-p256, ecdsa-p384, ecdsa-p521, rsa-2048, rsa-3072, rsa-4096 or hmac.',
        derived: 'Derive a key per request context (HKDF-SHA256); every operation must then carry a context.',
        convergent_encryption: 'Same plaintext and context give the same ciphertext (needs derived).',
        exportable: 'Allow the key material to be exported.',
        allow_plaintext_backup: 'Allow a plaintext backup of the key.',
        auto_rotate_period: 'Rotate automatically after this long (0 disables; at least 1h).',
        key_size: 'hmac keys only: the key size in bytes (32 to 512).',
        context: 'On read: a base64 context for which a derived ed25519 key shows its public key.',
      },
      operations: {
        read: async (ctx) => {
          const key = await store.get(keyName(ctx.params['name']));
          if (!key) throw notFound();
          return { data: keyView(key, optionalBase64(ctx.data.context, 'failed to base64-decode context: ')) };
        },
        update: async (ctx) => {
          const name = keyName(ctx.params['name']);
          const d = ctx.data;
          const type = d.type === undefined || d.type === '' ? 'aes256-gcm96' : d.type;
          if (!isKeyType(type)) throw invalid(`unknown key type ${type}`);
          const { key, created } = await store.create(name, {
            type, derived: d.derived ?? false, convergent: d.convergent_encryption ?? false, exportable: d.exportable ?? false,
            allowPlaintextBackup: d.allow_plaintext_backup ?? false, autoRotatePeriod: d.auto_rotate_period ?? 0, keySize: d.key_size ?? 0,
          });
          return { data: keyView(key, undefined), ...(created ? {} : { warnings: [`key ${name} already existed`] }) };
        },
        delete: async (ctx) => {
          await store.remove(keyName(ctx.params['name']));
          return { noContent: true };
        },
      },
    }),
    definePath({
      pattern: 'config/keys',
      help: 'Engine-wide key settings: disable_upsert stops encrypt from creating missing keys.',
      fields: z.object({ disable_upsert: bool().optional() }),
      operations: {
        read: async () => ({ data: { disable_upsert: await upsertDisabled(storage) } }),
        update: async (ctx) => {
          const disable = ctx.data.disable_upsert ?? (await upsertDisabled(storage));
          await putJson(storage, 'config/keys', { disable_upsert: disable });
          return { data: { disable_upsert: disable } };
        },
      },
    }),
  ];
}

export async function upsertDisabled(storage: Storage): Promise<boolean> {
  const raw = await getJson(storage, 'config/keys');
  return typeof raw === 'object' && raw !== null && (raw as { disable_upsert?: unknown }).disable_upsert === true;
}

/** Vault's key read: settings, capabilities, and each live version's creation time or public key. */
export function keyView(key: Key, context: Buffer | undefined): Record<string, unknown> {
  const r = key.record;
  const info = TYPE_INFO[r.type];
  const data: Record<string, unknown> = {
    name: r.name,
    type: r.type,
    derived: r.derived,
    deletion_allowed: r.deletion_allowed,
    min_available_version: r.min_available_version,
    min_decryption_version: r.min_decryption_version,
    min_encryption_version: r.min_encryption_version,
    latest_version: r.latest_version,
    exportable: r.exportable,
    allow_plaintext_backup: r.allow_plaintext_backup,
    supports_encryption: info.encryption,
    supports_decryption: info.encryption,
    supports_signing: info.signing,
    supports_derivation: info.derivation,
    auto_rotate_period: r.auto_rotate_period,
    imported_key: false,
  };
  if (r.type === 'hmac') data['key_size'] = r.key_size;
  if (r.backup_info) data['backup_info'] = r.backup_info;
  if (r.restore_info) data['restore_info'] = r.restore_info;
  if (r.derived) {
    data['kdf'] = 'hkdf_sha256';
    data['convergent_encryption'] = r.convergent_encryption;
    if (r.convergent_encryption) data['convergent_encryption_version'] = r.convergent_version;
  }
  const keys: Record<string, unknown> = {};
  for (const v of key.liveVersions()) {
    const stored = r.versions[String(v)]!;
    if (!info.signing) {
      keys[String(v)] = Math.floor(Date.parse(stored.creation_time) / 1000);
      continue;
    }
    let publicKey = formatPublicKey(r.type, stored, key.material(v));
    if (r.derived) publicKey = context ? key.derivedPublicKey(v, context) : '';
    const name = info.curve ? info.curve.name : r.type;
    keys[String(v)] = { name, public_key: publicKey, creation_time: stored.creation_time };
  }
  data['keys'] = keys;
  return data;
}

async function configure(store: KeyStore, name: string, d: z.output<typeof configFields>): Promise<CoreResponse> {
  const warnings: string[] = [];
  const key = await store.modify(name, (r) => {
    const next: KeyRecord = { ...r };
    if (d.min_decryption_version !== undefined) {
      let v = d.min_decryption_version;
      if (v < 0) throw invalid('min decryption version cannot be negative');
      if (v === 0) {
        v = 1;
        warnings.push('since Vault 0.3, transit key numbering starts at 1; forcing minimum to 1');
      }
      if (v !== r.min_decryption_version && v > r.latest_version) throw invalid(`cannot set min decryption version of ${v}, latest key version is ${r.latest_version}`);
      next.min_decryption_version = v;
    }
    if (d.min_encryption_version !== undefined) {
      const v = d.min_encryption_version;
      if (v < 0) throw invalid('min encryption version cannot be negative');
      if (v !== r.min_encryption_version && v > r.latest_version) throw invalid(`cannot set min encryption version of ${v}, latest key version is ${r.latest_version}`);
      next.min_encryption_version = v;
    }
    if (next.min_encryption_version > 0 && next.min_encryption_version < next.min_decryption_version) {
      throw invalid(`cannot set min encryption/decryption values; min encryption version of ${next.min_encryption_version} must be greater than or equal to min decryption version of ${next.min_decryption_version}`);
    }
    if (d.deletion_allowed !== undefined) next.deletion_allowed = d.deletion_allowed;
    // exportable and allow_plaintext_backup can be turned on, never off.
    if (d.exportable) next.exportable = true;
    if (d.allow_plaintext_backup) next.allow_plaintext_backup = true;
    if (d.auto_rotate_period !== undefined) {
      if (d.auto_rotate_period !== 0 && d.auto_rotate_period < 3600) throw invalid('auto rotate period must be 0 to disable or at least an hour');
      next.auto_rotate_period = d.auto_rotate_period;
    }
    const changed = (Object.keys(next) as (keyof KeyRecord)[]).some((k) => next[k] !== r[k]);
    if (!changed) return r;
    if (next.min_available_version > next.min_encryption_version) throw invalid('min encryption version should not be less than min available version');
    if (next.min_available_version > next.min_decryption_version) throw invalid('min decryption version should not be less than min available version');
    return next;
  });
  return { data: keyView(key, undefined), ...(warnings.length > 0 ? { warnings } : {}) };
}

async function trim(store: KeyStore, name: string, minAvailable: number | undefined): Promise<CoreResponse> {
  if (!(await store.get(name))) throw invalid('invalid key name');
  const key = await store.modify(name, (r) => {
    if (minAvailable === undefined) throw invalid('missing min_available_version');
    if (minAvailable < r.min_available_version) throw invalid('minimum available version cannot be decremented');
    if (r.min_encryption_version === 0) throw invalid('minimum available version cannot be set when minimum encryption version is not set');
    if (minAvailable > r.min_encryption_version) throw invalid('minimum available version cannot be greater than minimum encryption version');
    if (minAvailable > r.min_decryption_version) throw invalid('minimum available version cannot be greater than minimum decryption version');
    if (minAvailable < 0) throw invalid('minimum available version cannot be negative');
    if (minAvailable === 0) throw invalid('minimum available version should be positive');
    const versions = Object.fromEntries(Object.entries(r.versions).filter(([v]) => Number(v) >= minAvailable));
    return { ...r, min_available_version: minAvailable, versions };
  });
  return { data: keyView(key, undefined) };
}
