import { requestContext, type Acl, type Authorizer, type RequestContext } from '../../core/acl/types.js';
import { definePath, type Caller, type PathSpec } from '../../core/framework.js';
import type { MountEntry, MountTable } from '../../core/mounts.js';
import { openApiDocument, type DocumentedMount } from '../../core/openapi.js';
import { CofferError, denied } from '../../util/errors.js';
import { mountInfo } from './paths-mounts.js';

export interface InternalPathDeps {
  readonly secrets: MountTable;
  readonly auth: MountTable;
  readonly authorizer: Authorizer;
}

/** Decides which mounts a caller may see; no caller sees only `listing_visibility=unauth` mounts. */
type Visibility = (table: MountTable, entry: MountEntry) => boolean;

/**
 * sys/internal/ui/mounts[/:path] and sys/internal/specs/openapi. They are unauthenticated at the
 * ACL (as in Vault) and check the caller themselves: a mount is visible to a token with any
 * capability at or under it, which is what the Vault CLI's `kv` preflight relies on.
 */
export function internalPaths(d: InternalPathDeps): PathSpec[] {
  const visibility = async (caller: Caller | null, clientIp: string): Promise<Visibility> => {
    const unauth = (entry: MountEntry) => entry.config['listing_visibility'] === 'unauth';
    if (!caller) return (_t, entry) => unauth(entry);
    const acl = await d.authorizer.aclFor(caller.policies, caller.identity);
    const context = requestContext(clientIp, caller.identity);
    return (table, entry) => unauth(entry) || hasMountAccess(acl, table.routePrefix + entry.path, context);
  };
  const visibleMounts = async (caller: Caller | null, clientIp: string): Promise<{ table: MountTable; entry: MountEntry }[]> => {
    const visible = await visibility(caller, clientIp);
    return [d.secrets, d.auth].flatMap((table) => table.list().filter((e) => visible(table, e)).map((entry) => ({ table, entry })));
  };

  return [
    definePath({
      pattern: 'internal/ui/mounts',
      help: 'Lists the secrets engines and auth methods the caller can use (with no token: those listed as visible to all).',
      unauthenticated: true,
      operations: {
        read: async (ctx) => {
          const secret: Record<string, unknown> = {};
          const auth: Record<string, unknown> = {};
          for (const { table, entry } of await visibleMounts(ctx.caller, ctx.request.clientIp)) {
            const view = ctx.caller ? mountInfo(table, entry) : { type: entry.type, description: entry.description, options: entry.options };
            (table === d.auth ? auth : secret)[entry.path] = view;
          }
          return { data: { secret, auth } };
        },
      },
    }),
    definePath({
      pattern: 'internal/ui/mounts/:path*',
      help: 'The mount that holds a path (type, options, path), for a caller with any capability under it.',
      unauthenticated: true,
      fieldHelp: { path: 'Any path at or under the mount.' },
      operations: {
        read: async (ctx) => {
          let path = (ctx.params['path'] ?? '').replace(/^\/+/, '');
          if (path === '') throw new CofferError('invalid_request', 'path not set');
          if (!path.endsWith('/')) path += '/';
          const refused = new CofferError('permission_denied', `preflight capability check returned 403, please ensure client's policies grant access to path "${path}"`);
          const [table, rel] = path.startsWith('auth/') ? [d.auth, path.slice(5)] : [d.secrets, path];
          // Unknown mounts and forbidden ones look the same, so this cannot enumerate mounts.
          const entry = rel === '' ? undefined : table.resolve(rel)?.mounted.entry;
          if (!entry) throw refused;
          if (!ctx.caller) throw denied();
          const acl = await d.authorizer.aclFor(ctx.caller.policies, ctx.caller.identity);
          if (!hasMountAccess(acl, table.routePrefix + entry.path, requestContext(ctx.request.clientIp, ctx.caller.identity))) throw refused;
          return { data: { ...mountInfo(table, entry), path: entry.path } };
        },
      },
    }),
    definePath({
      pattern: 'internal/specs/openapi',
      help: 'The OpenAPI 3 document of every path on the mounts the caller can see.',
      unauthenticated: true,
      operations: {
        read: async (ctx) => {
          const mounts: DocumentedMount[] = [];
          for (const { table, entry } of await visibleMounts(ctx.caller, ctx.request.clientIp)) {
            const resolved = table.resolve(entry.path);
            if (resolved) mounts.push({ path: table.routePrefix + entry.path, type: entry.type, specs: resolved.mounted.table.specs });
          }
          return { raw: { status: 200, body: openApiDocument(mounts) } };
        },
      },
    }),
  ];
}

/**
 * Vault's hasMountAccess — some capability on the mount path itself, or any rule at or under it
 * that grants something other than deny.
 */
export function hasMountAccess(acl: Acl, mountPath: string, context?: RequestContext): boolean {
  if (acl.isRoot) return true;
  if (!acl.capabilities(mountPath, context).includes('deny')) return true;
  return acl.hasAccessUnder?.(mountPath, context) ?? false;
}
