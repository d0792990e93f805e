import type { MountTable } from '../core/mounts.js';
import type { MountRef } from './types.js';

/** The entries' mount_type/mount_point/mount_accessor for a request path, from the two mount tables. */
export function mountResolver(tables: { readonly secrets: Pick<MountTable, 'resolve' | 'routePrefix'>; readonly auth: Pick<MountTable, 'resolve' | 'routePrefix'> }): (path: string) => MountRef | undefined {
  return (path) => {
    const table = path.startsWith('auth/') ? tables.auth : tables.secrets;
    const resolved = table.resolve(path.slice(table.routePrefix.length));
    if (!resolved) return undefined;
    const e = resolved.mounted.entry;
    return { type: e.type, path: table.routePrefix + e.path, accessor: e.accessor };
  };
}
