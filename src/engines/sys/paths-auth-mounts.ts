import { definePath, type PathSpec } from '../../core/framework.js';
import { normalizeMountPath, type MountTable } from '../../core/mounts.js';
import { invalid } from '../../util/errors.js';
import { MOUNT_FIELD_HELP, TUNE_FIELD_HELP, enableMount, mountFields, mountInfo, mountTableView, tuneFields, tuneMount, tuneView } from './paths-mounts.js';

/**
 * sys/auth, sys/auth/:path, sys/auth/:path/tune: auth methods are mounts in their own table,
 * routed under auth/. Everything below sys/auth/ needs sudo, as in Vault.
 */
export function authMountPaths(d: { readonly auth: MountTable }): PathSpec[] {
  const find = (raw: string) => {
    const path = normalizeMountPath(raw);
    return d.auth.resolve(path)?.mounted.entry;
  };
  return [
    definePath({
      pattern: 'auth',
      help: 'Lists the auth methods enabled, keyed by path.',
      operations: { read: async () => ({ data: mountTableView(d.auth) }) },
    }),
    definePath({
      pattern: 'auth/:path*/tune',
      help: 'Reads or tunes an auth method: token TTLs, description, options, token_type and audit/header settings.',
      sudo: true,
      fields: tuneFields,
      fieldHelp: TUNE_FIELD_HELP,
      operations: {
        read: async (ctx) => {
          const entry = find(ctx.params['path'] ?? '');
          if (!entry) throw invalid(`cannot fetch mount entry for path "auth/${normalizeMountPath(ctx.params['path'] ?? '')}"`);
          return { data: tuneView(d.auth, entry) };
        },
        update: async (ctx) => {
          const entry = find(ctx.params['path'] ?? '');
          if (!entry) throw invalid(`tune of path "auth/${normalizeMountPath(ctx.params['path'] ?? '')}" failed: no mount entry found`);
          return tuneMount(d.auth, entry, ctx.data);
        },
      },
    }),
    definePath({
      pattern: 'auth/:path*',
      help: 'Enables (POST), reads (GET) or disables (DELETE; its data is deleted) an auth method at auth/<path>.',
      sudo: true,
      fields: mountFields,
      fieldHelp: MOUNT_FIELD_HELP,
      operations: {
        read: async (ctx) => {
          const entry = find(ctx.params['path'] ?? '');
          if (!entry) throw invalid(`No auth engine at ${normalizeMountPath(ctx.params['path'] ?? '')}`);
          return { data: mountInfo(d.auth, entry) };
        },
        update: async (ctx) => {
          const path = normalizeMountPath(ctx.params['path'] ?? '');
          const data = ctx.data;
          let type = data.type ?? '';
          if (type === 'plugin') type = data.config?.plugin_name || data.plugin_name || '';
          if (type === '') throw invalid('backend type must be specified as a string');
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
