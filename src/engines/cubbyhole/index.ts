import type { Backend, BackendFactory, Caller, HandlerContext } from '../../core/framework.js';
import { definePath } from '../../core/framework.js';
import type { Storage } from '../../storage/types.js';
import { collectKeys, putJson } from '../../storage/view.js';
import { denied, invalid, notFound } from '../../util/errors.js';
import { folderPath, secretPath } from '../kv/store.js';
import { readObject } from '../kv/v1.js';

/**
 * Cubbyhole: private storage for each service token, mounted once at `cubbyhole/`. Every
 * key lives under the caller's token id (a salted hash, never the token), so a token sees only
 * its own cubbyhole, and the whole prefix is purged when the token is revoked.
 */
export const cubbyholeBackendFactory: BackendFactory = (): Backend => ({
  type: 'cubbyhole',
  paths: [
    definePath({
      pattern: ':path*',
      help: 'Reads, writes, deletes and lists secrets private to the calling token; they are removed when the token is revoked.',
      exists: async (ctx) => {
        const path = secretPath(ctx.params['path']);
        return path !== undefined && (await ctx.storage.get(key(ctx, path))) !== undefined;
      },
      operations: {
        read: async (ctx) => {
          const path = secretPath(ctx.params['path']);
          const data = path === undefined ? undefined : await readObject(ctx.storage, key(ctx, path));
          if (!data) throw notFound();
          return { data };
        },
        create: async (ctx) => write(ctx),
        update: async (ctx) => write(ctx),
        delete: async (ctx) => {
          const path = secretPath(ctx.params['path']);
          if (path !== undefined) await ctx.storage.delete(key(ctx, path));
          return { noContent: true };
        },
        list: async (ctx) => {
          const keys = await ctx.storage.list(`${prefixOf(ctx.caller)}${folderPath(ctx.params['path'])}`);
          if (keys.length === 0) throw notFound();
          return { data: { keys } };
        },
      },
    }),
  ],
});

async function write(ctx: HandlerContext): Promise<{ noContent: true }> {
  const path = secretPath(ctx.params['path']);
  if (path === undefined) throw invalid(ctx.params['path'] ? 'secret path must not end in "/"' : 'missing path');
  const k = key(ctx, path);
  if (Object.keys(ctx.rawData).length === 0) throw invalid('missing data fields');
  await putJson(ctx.storage, k, ctx.rawData);
  return { noContent: true };
}

const key = (ctx: HandlerContext, path: string): string => `${prefixOf(ctx.caller)}${path}`;

/** The caller's private prefix. Batch tokens are never stored, so they have no cubbyhole (as in Vault). */
function prefixOf(caller: Caller | null): string {
  if (!caller) throw denied();
  if (caller.tokenType !== 'service') throw invalid('cubbyhole operations are only supported by "service" type tokens');
  return `${safeTokenId(caller.tokenId)}/`;
}

function safeTokenId(tokenId: string): string {
  // The id is the token store's hex HMAC; anything else must never become a storage prefix.
  if (!/^[0-9A-Za-z_-]{16,128}$/.test(tokenId)) throw new TypeError('cubbyhole: token id is not a storage-safe id');
  return tokenId;
}

/**
 * Removes every record of a token's cubbyhole. `storage` is the cubbyhole mount's view
 * (`logical/<uuid>/`); called by the token store when the token is revoked.
 */
export async function purgeCubbyhole(storage: Storage, tokenId: string): Promise<void> {
  const keys = await collectKeys(storage, `${safeTokenId(tokenId)}/`);
  for (let i = 0; i < keys.length; i += 500) {
    await storage.transaction(keys.slice(i, i + 500).map((k) => ({ kind: 'delete' as const, key: k })));
  }
}
