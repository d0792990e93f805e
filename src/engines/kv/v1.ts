import { definePath, type Backend, type MountEnv } from '../../core/framework.js';
import type { CoreResponse } from '../../core/request.js';
import type { Storage } from '../../storage/types.js';
import { getJson, putJson } from '../../storage/view.js';
import { parseDurationSeconds } from '../../util/duration.js';
import { CofferError, invalid, notFound } from '../../util/errors.js';
import { folderPath, isPlainObject, secretPath } from './store.js';

/**
 * KV version 1: arbitrary JSON objects at arbitrary paths, no versions. Each secret is one
 * record at `data/<path>` in the mount's view (a prefix, so a later upgrade to version 2
 * can tell v1 records apart from v2's `meta/` and `ver/`).
 */
export const V1_PREFIX = 'data/';

export function kvV1Backend(env: MountEnv): Backend {
  const key = (path: string): string => `${V1_PREFIX}${path}`;
  return {
    type: 'kv',
    paths: [
      definePath({
        pattern: ':path*',
        help: 'Reads, writes, deletes and lists secrets (unversioned key/value).',
        exists: async (ctx) => {
          const path = secretPath(ctx.params['path']);
          return path !== undefined && (await ctx.storage.get(key(path))) !== undefined;
        },
        operations: {
          read: async (ctx) => {
            const path = secretPath(ctx.params['path']);
            if (path === undefined) throw notFound();
            const data = await readObject(ctx.storage, key(path));
            if (!data) throw notFound();
            return { data, secret: { leaseId: '', ttl: ttlOf(data, env.mount.defaultLeaseTtl), renewable: false } };
          },
          update: async (ctx) => write(ctx.storage, ctx.params['path'], ctx.rawData, key),
          create: async (ctx) => write(ctx.storage, ctx.params['path'], ctx.rawData, key),
          delete: async (ctx) => {
            const path = secretPath(ctx.params['path']);
            if (path !== undefined) await ctx.storage.delete(key(path));
            return { noContent: true };
          },
          list: async (ctx) => {
            const keys = await ctx.storage.list(`${V1_PREFIX}${folderPath(ctx.params['path'])}`);
            if (keys.length === 0) throw notFound();
            return { data: { keys } };
          },
        },
      }),
    ],
  };
}

/** Vault's rule: the `ttl` (or legacy `lease`) key of the secret, if it parses as a duration, else the mount default. */
function ttlOf(data: Record<string, unknown>, mountDefault: number): number {
  const raw = data['ttl'] ?? data['lease'];
  const parsed = raw === undefined ? undefined : parseDurationSeconds(raw);
  return parsed ?? mountDefault;
}

async function write(storage: Storage, rawPath: string | undefined, data: Readonly<Record<string, unknown>>, key: (p: string) => string): Promise<CoreResponse> {
  const path = secretPath(rawPath);
  if (path === undefined) throw invalid(rawPath ? 'secret path must not end in "/"' : 'missing path');
  if (Object.keys(data).length === 0) throw invalid('missing data fields');
  await putJson(storage, key(path), data);
  return { noContent: true };
}

/** A stored JSON object (KV v1 and cubbyhole records). */
export async function readObject(storage: Storage, key: string): Promise<Record<string, unknown> | undefined> {
  const raw = await getJson(storage, key);
  if (raw === undefined) return undefined;
  if (!isPlainObject(raw)) throw new CofferError('internal', 'stored secret is not a JSON object');
  return raw;
}
