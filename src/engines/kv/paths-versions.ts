import * as z from 'zod';
import { definePath, type PathSpec } from '../../core/framework.js';
import type { CoreResponse } from '../../core/request.js';
import { invalid } from '../../util/errors.js';
import { scheduledDeletion, isLive, secretPath, type KeyMeta, type KvStore, type VersionMeta } from './store.js';

/** Vault's comma-int-slice: [1, 2], ["1", "2"], "1,2" or a single number. */
const versionList = () => z.unknown().transform((v, ctx) => {
  const parts: unknown[] = Array.isArray(v) ? v : typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter((s) => s !== '') : [v];
  const out: number[] = [];
  for (const p of parts) {
    const n = typeof p === 'number' ? p : typeof p === 'string' && /^\d+$/.test(p) ? Number(p) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < 0) {
      ctx.addIssue({ code: 'custom', message: 'must be a list of version numbers' });
      return z.NEVER;
    }
    out.push(n);
  }
  return out;
});

const fields = z.object({ versions: versionList().optional() });

type Change = (meta: KeyMeta, vm: VersionMeta, nowMs: number) => VersionMeta | undefined;

/** `delete/`, `undelete/` and `destroy/`: change the state of chosen versions of a secret. */
export function versionPaths(store: KvStore): PathSpec[] {
  const softDelete: Change = (_meta, vm, now) => (vm.destroyed || !isLive(vm, now) ? undefined : { ...vm, deletion_time: new Date(now).toISOString() });
  return [
    definePath({
      pattern: 'delete/:path*',
      help: 'Soft-deletes versions of a secret: their data is kept and can be undeleted.',
      fields,
      fieldHelp: { versions: 'The versions to delete.' },
      operations: {
        update: async (ctx) => change(store, ctx.params['path'], ctx.data.versions, 'No version number provided', async () => softDelete),
      },
    }),
    definePath({
      pattern: 'undelete/:path*',
      help: 'Restores soft-deleted versions of a secret.',
      fields,
      fieldHelp: { versions: 'The versions to undelete.' },
      operations: {
        update: async (ctx) => change(store, ctx.params['path'], ctx.data.versions, 'No version number provided', async () => {
          const config = await store.config();
          return (meta, vm, now) => (vm.destroyed ? undefined : { ...vm, deletion_time: scheduledDeletion(now, config, meta) });
        }),
      },
    }),
    definePath({
      pattern: 'destroy/:path*',
      help: 'Permanently removes the data of versions of a secret; their metadata stays, marked destroyed.',
      fields,
      fieldHelp: { versions: 'The versions to destroy.' },
      operations: {
        update: async (ctx) => change(store, ctx.params['path'], ctx.data.versions, 'no version number provided', async () => (_meta, vm) => (vm.destroyed ? undefined : { ...vm, destroyed: true })),
      },
    }),
  ];
}

/** Applies `makeChange` to each listed version under the secret's lock; metadata and any destroyed data change in one transaction. */
async function change(store: KvStore, rawPath: string | undefined, versions: number[] | undefined, emptyMessage: string, makeChange: () => Promise<Change>): Promise<CoreResponse> {
  if (!versions || versions.length === 0) throw invalid(emptyMessage);
  const path = secretPath(rawPath);
  if (path === undefined) return { noContent: true };
  const apply = await makeChange();
  return store.lock.run(path, async () => {
    const meta = await store.meta(path);
    if (!meta) return { noContent: true };
    const now = Date.now();
    const next = { ...meta.versions };
    const destroyed: number[] = [];
    for (const v of new Set(versions)) {
      const vm = next[v];
      if (!vm) continue;
      const changed = apply(meta, vm, now);
      if (!changed) continue;
      next[v] = changed;
      if (changed.destroyed) destroyed.push(v);
    }
    if (destroyed.length === 0 && Object.keys(next).every((k) => next[k] === meta.versions[k])) return { noContent: true };
    const updated: KeyMeta = { ...meta, versions: next, ...(destroyed.length > 0 ? { updated_time: new Date(now).toISOString() } : {}) };
    await store.commit([store.metaOp(path, updated), ...destroyed.map((v) => store.deleteVersionOp(path, v))]);
    return { noContent: true };
  });
}
