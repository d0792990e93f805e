import { definePath, type PathSpec } from '../../core/framework.js';
import { normalizeMountPath, type MountTable } from '../../core/mounts.js';
import { invalid } from '../../util/errors.js';
import { MOUNT_FIELD_HELP, enableMount, mountFields, mountInfo, mountTableView, requestedType, tunePath, type LocatedMount } from './paths-mounts.js';

/**
 * sys/auth, sys/auth/:path, sys/auth/:path/tune: auth methods are mounts in their own table,
 * routed under auth/. Everything below sys/auth/ needs sudo, as in Vault.
 */
export function authMountPaths(d: { readonly auth: MountTable }): PathSpec[] {
  const locate = (raw: string): LocatedMount | undefined => {
    const entry = d.auth.resolve(normalizeMountPath(raw))?.mounted.entry;
    return entry ? { table: d.auth, entry } : undefined;
  };
  return [
    definePath({
      pattern: 'auth',
      help: 'Lists the auth methods enabled, keyed by path.',
      operations: { read: async () => ({ data: mountTableView(d.auth) }) },
    }),
    tunePath({
      pattern: 'auth/:path*/tune',
      help: 'Reads or tunes an auth method: token TTLs, description, options, token_type and audit/header settings.',
      sudo: true,
      locate,
      shownPrefix: 'auth/',
    }),
    definePath({
      pattern: 'auth/:path*',
      help: 'Enables (POST), reads (GET) or disables (DELETE; its data is deleted) an auth method at auth/<path>.',
      sudo: true,
      fields: mountFields,
      fieldHelp: MOUNT_FIELD_HELP,
      operations: {
        read: async (ctx) => {
          const found = locate(ctx.params['path'] ?? '');
          if (!found) throw invalid(`No auth engine at ${normalizeMountPath(ctx.params['path'] ?? '')}`);
          return { data: mountInfo(found.table, found.entry) };
        },
        update: async (ctx) => {
          const path = normalizeMountPath(ctx.params['path'] ?? '');
          const data = ctx.data;
          const type = requestedType(data);
          if (type === 'token') throw invalid('token credential backend cannot be instantiated');
          if (data.options?.['version']) throw invalid(`auth method "${type}" does not allow setting a version`);
          return enableMount(d.auth, path, type, data, data.options ?? undefined);
        },
        delete: async (ctx) => {
          await d.auth.unmount(normalizeMountPath(ctx.params['path'] ?? ''));
          return { noContent: true };
        },
      },
    }),
  ];
}
