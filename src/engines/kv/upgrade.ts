import type { Handler, HandlerContext, PathSpec } from '../../core/framework.js';
import type { Storage } from '../../storage/types.js';
import { collectKeys } from '../../storage/view.js';
import { readObject, V1_PREFIX } from './v1.js';
import { addVersion, newKeyMeta, secretPath, type KvStore } from './store.js';

/**
 * Turns version 1 records (left by a mount tuned from version 1 to 2, as `vault kv
 * enable-versioning` does) into version 1 of a versioned secret. Each secret moves in one
 * transaction, so a crash mid-way leaves every secret either old or new, and the next start
 * finishes the job.
 */
export async function upgradeFromV1(storage: Storage, store: KvStore): Promise<void> {
  for (const key of await collectKeys(storage, V1_PREFIX)) {
    const path = secretPath(key.slice(V1_PREFIX.length));
    const data = path === undefined ? undefined : await readObject(storage, key);
    if (path === undefined || !data || (await store.meta(path))) {
      await storage.delete(key);
      continue;
    }
    const now = new Date().toISOString();
    const { meta } = addVersion(newKeyMeta(now), now, '', 0);
    await store.commit([store.versionOp(path, 1, data), store.metaOp(path, meta), { kind: 'delete', key }]);
  }
}

/** Makes every handler (and the existence check) of `paths` wait for `ready` first. */
export function afterReady(paths: readonly PathSpec[], ready: () => Promise<void>): PathSpec[] {
  const wrap = (h: Handler<never>): Handler<never> => async (ctx) => {
    await ready();
    return (h as Handler<Record<string, unknown>>)(ctx as HandlerContext);
  };
  return paths.map((spec) => {
    const { exists } = spec;
    return {
      ...spec,
      operations: Object.fromEntries(Object.entries(spec.operations).map(([op, h]) => [op, wrap(h)])),
      ...(exists ? { exists: async (ctx: HandlerContext) => { await ready(); return exists(ctx); } } : {}),
    };
  });
}
