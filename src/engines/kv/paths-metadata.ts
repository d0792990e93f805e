import * as z from 'zod';
import { bool, duration, int } from '../../core/fields.js';
import { definePath, type PathSpec } from '../../core/framework.js';
import type { CoreResponse } from '../../core/request.js';
import { invalid, notFound } from '../../util/errors.js';
import { mergePatch } from './merge-patch.js';
import { folderPath, goDuration, isPlainObject, newKeyMeta, secretPath, type KeyMeta, type KvStore } from './store.js';

const fields = z.object({
  max_versions: int().optional(),
  cas_required: bool().optional(),
  delete_version_after: duration().optional(),
  custom_metadata: z.unknown().optional(),
});
type Fields = z.output<typeof fields>;

const EDITABLE = ['max_versions', 'cas_required', 'delete_version_after', 'custom_metadata'] as const;

/** Vault's limits on custom_metadata. */
const MAX_CUSTOM_KEYS = 64;
const MAX_CUSTOM_KEY_BYTES = 128;
const MAX_CUSTOM_VALUE_BYTES = 512;
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]*$/u;
const CUSTOM_PREFIX = 'custom_metadata validation failed';
const CAS_IGNORED = '"cas_required" set to false, but is mandated by backend config. This value will be ignored.';

/** `metadata/:path`: list secrets, read and edit a secret's settings and version states, delete it entirely. */
export function metadataPaths(store: KvStore): PathSpec[] {
  return [
    definePath({
      pattern: 'metadata/:path*',
      help: 'List secrets; read or edit the metadata of a secret; delete a secret with all its versions.',
      fields,
      fieldHelp: {
        max_versions: 'Versions to keep for this secret (0 = the engine setting, else 10).',
        cas_required: 'If true, every write to this secret must carry options.cas.',
        delete_version_after: 'Each new version is deleted this long after it is written (0 = the engine setting).',
        custom_metadata: 'A map of strings describing the secret (at most 64 keys; keys up to 128 bytes, values up to 512).',
      },
      exists: async (ctx) => {
        const path = secretPath(ctx.params['path']);
        return path !== undefined && (await store.meta(path)) !== undefined;
      },
      operations: {
        list: async (ctx) => {
          const keys = await store.list(folderPath(ctx.params['path']));
          if (keys.length === 0) throw notFound();
          return { data: { keys } };
        },
        read: async (ctx) => {
          const path = secretPath(ctx.params['path']);
          const meta = path === undefined ? undefined : await store.meta(path);
          if (!meta) throw notFound();
          return { data: metadataView(meta) };
        },
        create: async (ctx) => writeMetadata(store, ctx.params['path'], ctx.data, ctx.rawData),
        update: async (ctx) => writeMetadata(store, ctx.params['path'], ctx.data, ctx.rawData),
        patch: async (ctx) => patchMetadata(store, ctx.params['path'], ctx.data, ctx.rawData),
        delete: async (ctx) => {
          const path = secretPath(ctx.params['path']);
          if (path === undefined) return { noContent: true };
          return store.lock.run(path, async () => {
            const meta = await store.meta(path);
            if (!meta) return { noContent: true };
            const versions = Object.keys(meta.versions).map(Number);
            await store.commit([...versions.map((v) => store.deleteVersionOp(path, v)), store.deleteMetaOp(path)]);
            return { noContent: true };
          });
        },
      },
    }),
  ];
}

/** Vault's metadata body (keys sorted, as Go marshals maps). */
export function metadataView(meta: KeyMeta): Record<string, unknown> {
  const versions = Object.fromEntries(Object.entries(meta.versions).map(([n, vm]) => [n, { created_time: vm.created_time, deletion_time: vm.deletion_time, destroyed: vm.destroyed }]));
  return {
    cas_required: meta.cas_required,
    created_time: meta.created_time,
    current_version: meta.current_version,
    custom_metadata: meta.custom_metadata,
    delete_version_after: goDuration(meta.delete_version_after),
    max_versions: meta.max_versions,
    oldest_version: meta.oldest_version,
    updated_time: meta.updated_time,
    versions,
  };
}

function checkSettings(data: Fields): void {
  if (data.max_versions !== undefined && data.max_versions < 0) throw invalid('max_versions: must not be negative');
}

async function writeMetadata(store: KvStore, rawPath: string | undefined, data: Fields, raw: Readonly<Record<string, unknown>>): Promise<CoreResponse> {
  const path = secretPath(rawPath);
  if (path === undefined) throw invalid(rawPath ? 'secret path must not end in "/"' : 'missing path');
  if (!EDITABLE.some((k) => raw[k] !== undefined)) return { noContent: true };
  checkSettings(data);
  const custom = raw['custom_metadata'] === undefined ? undefined : customMetadata(raw['custom_metadata'], false);
  const config = await store.config();
  return store.lock.run(path, async () => {
    const meta = (await store.meta(path)) ?? newKeyMeta(new Date().toISOString());
    const next: KeyMeta = {
      ...meta,
      ...(data.max_versions === undefined ? {} : { max_versions: data.max_versions }),
      ...(data.cas_required === undefined ? {} : { cas_required: data.cas_required }),
      ...(data.delete_version_after === undefined ? {} : { delete_version_after: data.delete_version_after }),
      ...(custom === undefined ? {} : { custom_metadata: nullIfEmpty(custom) }),
    };
    await store.commit([store.metaOp(path, next)]);
    return casWarning(config.cas_required, data);
  });
}

async function patchMetadata(store: KvStore, rawPath: string | undefined, data: Fields, raw: Readonly<Record<string, unknown>>): Promise<CoreResponse> {
  if (!EDITABLE.some((k) => raw[k] !== undefined)) return { noContent: true };
  const path = secretPath(rawPath);
  if (path === undefined) throw invalid(rawPath ? 'secret path must not end in "/"' : 'missing path');
  checkSettings(data);
  const customPatch = raw['custom_metadata'];
  if (customPatch !== undefined && customPatch !== null) customMetadata(customPatch, true);
  const config = await store.config();
  return store.lock.run(path, async () => {
    const meta = await store.meta(path);
    if (!meta) throw notFound();
    let custom = meta.custom_metadata;
    if (customPatch !== undefined) {
      // Merge-patch semantics: null removes the whole map, a null value removes one key.
      const merged = mergePatch(meta.custom_metadata ?? {}, customPatch);
      custom = isPlainObject(merged) ? nullIfEmpty(customMetadata(merged, false)) : null;
    }
    const next: KeyMeta = {
      ...meta,
      ...(data.max_versions === undefined ? {} : { max_versions: data.max_versions }),
      ...(data.cas_required === undefined ? {} : { cas_required: data.cas_required }),
      ...(data.delete_version_after === undefined ? {} : { delete_version_after: data.delete_version_after }),
      custom_metadata: custom,
    };
    await store.commit([store.metaOp(path, next)]);
    return casWarning(config.cas_required, data);
  });
}

function casWarning(configRequires: boolean, data: Fields): CoreResponse {
  return configRequires && data.cas_required === false ? { warnings: [CAS_IGNORED] } : { noContent: true };
}

const nullIfEmpty = (m: Record<string, string>): Record<string, string> | null => (Object.keys(m).length === 0 ? null : m);

/**
 * custom_metadata as Vault takes it: a map whose values are weakly turned into strings
 * (numbers as digits, booleans as "1"/"0"), then checked against the limits. With
 * `allowNull` (patch), null values pass through unchecked: they mean "remove".
 */
function customMetadata(raw: unknown, allowNull: boolean): Record<string, string> {
  if (!isPlainObject(raw)) throw invalid(`${CUSTOM_PREFIX}: custom_metadata must be a map of strings`);
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(raw)) {
    if (v === null && allowNull) continue;
    if (typeof v === 'string') out.set(k, v);
    else if (typeof v === 'number' && Number.isFinite(v)) out.set(k, String(v));
    else if (typeof v === 'boolean') out.set(k, v ? '1' : '0');
    else throw invalid(`${CUSTOM_PREFIX}: value for key ${JSON.stringify(k)} must be a string`);
  }
  if (out.size > MAX_CUSTOM_KEYS) throw invalid(`${CUSTOM_PREFIX}: payload must contain at most ${MAX_CUSTOM_KEYS} keys, provided ${out.size}`);
  const problems: string[] = [];
  for (const [k, v] of out) {
    const kl = Buffer.byteLength(k);
    const vl = Buffer.byteLength(v);
    if (kl === 0 || kl > MAX_CUSTOM_KEY_BYTES) problems.push(`${CUSTOM_PREFIX}: length of key ${JSON.stringify(k)} is ${kl} but must be 0 < len(key) <= ${MAX_CUSTOM_KEY_BYTES}`);
    if (vl === 0 || vl > MAX_CUSTOM_VALUE_BYTES) problems.push(`${CUSTOM_PREFIX}: length of value for key ${JSON.stringify(k)} is ${vl} but must be 0 < len(value) <= ${MAX_CUSTOM_VALUE_BYTES}`);
    if (!PRINTABLE.test(k)) problems.push(`${CUSTOM_PREFIX}: key ${JSON.stringify(k)} contains unprintable characters`);
    if (!PRINTABLE.test(v)) problems.push(`${CUSTOM_PREFIX}: value for key ${JSON.stringify(k)} contains unprintable characters`);
  }
  if (problems.length > 0) throw invalid(problems.join('; '));
  return Object.fromEntries(out);
}
