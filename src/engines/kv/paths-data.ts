import * as z from 'zod';
import { int } from '../../core/fields.js';
import { definePath, type PathSpec } from '../../core/framework.js';
import type { CoreResponse } from '../../core/request.js';
import { CofferError, invalid, notFound } from '../../util/errors.js';
import { mergePatch } from './merge-patch.js';
import {
  addVersion, checkCas, isLive, isPlainObject, newKeyMeta, scheduledDeletion, secretPath, versionView,
  type KeyMeta, type KvStore,
} from './store.js';

const fields = z.object({
  version: int().optional(),
  data: z.unknown().optional(),
  options: z.unknown().optional(),
});

/** `data/:path`: read a version, write a new one (with check-and-set), merge-patch, soft-delete the latest. */
export function dataPaths(store: KvStore): PathSpec[] {
  return [
    definePath({
      pattern: 'data/:path*',
      help: 'Write, patch, read and soft-delete versions of a secret.',
      fields,
      fieldHelp: {
        version: 'On read: the version to return (default: the latest).',
        data: 'On write: the secret, a JSON object. On patch: a JSON merge patch applied to the latest version.',
        options: 'On write and patch: {"cas": N} writes only if N is the current version (0 = only if the secret does not exist).',
      },
      exists: async (ctx) => {
        const path = secretPath(ctx.params['path']);
        return path !== undefined && (await store.meta(path)) !== undefined;
      },
      operations: {
        read: async (ctx) => readVersion(store, ctx.params['path'], ctx.data.version ?? 0),
        create: async (ctx) => write(store, ctx.params['path'], ctx.rawData),
        update: async (ctx) => write(store, ctx.params['path'], ctx.rawData),
        patch: async (ctx) => patch(store, ctx.params['path'], ctx.rawData),
        delete: async (ctx) => softDeleteLatest(store, ctx.params['path']),
      },
    }),
  ];
}

async function readVersion(store: KvStore, rawPath: string | undefined, requested: number): Promise<CoreResponse> {
  const path = secretPath(rawPath);
  if (path === undefined) throw notFound();
  // Reads take no lock: a version trimmed between the two gets is seen on the second look.
  for (let attempt = 0; attempt < 2; attempt++) {
    const meta = await store.sharedMeta(path);
    if (!meta) throw notFound();
    const version = requested > 0 ? requested : meta.current_version;
    const vm = meta.versions[version];
    if (!vm) throw notFound();
    const metadata = versionView(meta, version, vm);
    // Vault answers a deleted or destroyed version with 404 and its metadata, so clients can tell it from "never existed".
    if (!isLive(vm)) return { status: 404, data: { data: null, metadata } };
    const data = await store.sharedVersionData(path, version);
    if (data) return { data: { data, metadata } };
  }
  throw notFound();
}

/** The `data` field of a write or patch: required, and a JSON object. */
function secretData(raw: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const data = raw['data'];
  if (data === undefined || data === null) throw invalid('no data provided');
  if (!isPlainObject(data)) throw invalid('data: must be a JSON object');
  return data;
}

function writablePath(rawPath: string | undefined): string {
  const path = secretPath(rawPath);
  if (path === undefined) throw invalid(rawPath ? 'secret path must not end in "/"' : 'missing path');
  return path;
}

async function write(store: KvStore, rawPath: string | undefined, raw: Readonly<Record<string, unknown>>): Promise<CoreResponse> {
  const path = writablePath(rawPath);
  const data = secretData(raw);
  if (raw['options'] !== undefined && raw['options'] !== null && !isPlainObject(raw['options'])) throw invalid('options: must be a JSON object');
  return store.lock.run(path, async () => {
    const config = await store.config();
    const now = Date.now();
    const meta = (await store.meta(path)) ?? newKeyMeta(new Date(now).toISOString());
    checkCas(raw['options'], config, meta);
    return commitVersion(store, path, meta, data, now, config.max_versions, scheduledDeletion(now, config, meta));
  });
}

async function patch(store: KvStore, rawPath: string | undefined, raw: Readonly<Record<string, unknown>>): Promise<CoreResponse> {
  const path = writablePath(rawPath);
  const patchData = secretData(raw);
  return store.lock.run(path, async () => {
    const meta = await store.meta(path);
    if (!meta) throw notFound();
    const config = await store.config();
    checkCas(raw['options'], config, meta);
    const vm = meta.versions[meta.current_version];
    if (!vm) throw notFound();
    // Vault's patch 404 carries the version metadata flat in `data`.
    if (!isLive(vm)) return { status: 404, data: versionView(meta, meta.current_version, vm) };
    const existing = await store.versionData(path, meta.current_version);
    if (!existing) throw new CofferError('internal', 'could not find version data');
    const patched = mergePatch(existing, patchData) as Record<string, unknown>;
    const now = Date.now();
    return commitVersion(store, path, meta, patched, now, config.max_versions, scheduledDeletion(now, config, meta));
  });
}

/** Writes the next version, its metadata and the removal of versions past max_versions in one transaction. */
async function commitVersion(store: KvStore, path: string, meta: KeyMeta, data: Record<string, unknown>, nowMs: number, configMax: number, deletionTime: string): Promise<CoreResponse> {
  const { meta: next, trimmed } = addVersion(meta, new Date(nowMs).toISOString(), deletionTime, configMax);
  const version = next.current_version;
  await store.commit([
    store.versionOp(path, version, data),
    store.metaOp(path, next),
    ...trimmed.map((v) => store.deleteVersionOp(path, v)),
  ]);
  return { data: versionView(next, version, next.versions[version]!) };
}

async function softDeleteLatest(store: KvStore, rawPath: string | undefined): Promise<CoreResponse> {
  const path = secretPath(rawPath);
  if (path === undefined) return { noContent: true };
  return store.lock.run(path, async () => {
    const meta = await store.meta(path);
    const vm = meta?.versions[meta.current_version];
    if (!meta || !vm || !isLive(vm)) return { noContent: true };
    const versions = { ...meta.versions, [meta.current_version]: { ...vm, deletion_time: new Date().toISOString() } };
    await store.commit([store.metaOp(path, { ...meta, versions })]);
    return { noContent: true };
  });
}
