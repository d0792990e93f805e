import * as z from 'zod';
import { definePath, type PathSpec } from '../../core/framework.js';
import type { UserLockout } from '../../core/lockout.js';
import { invalid } from '../../util/errors.js';

/**
 * sys/locked-users (GET, optional `mount_accessor`) and
 * sys/locked-users/:mount_accessor/unlock/:alias_identifier (POST): Vault 1.13+'s view of user
 * lockout. Only the root namespace exists, so `by_namespace` has one entry.
 */
export function lockedUserPaths(lockout: Pick<UserLockout, 'listLocked' | 'unlock'>): PathSpec[] {
  return [
    definePath({
      pattern: 'locked-users',
      help: 'Lists the locked aliases by auth mount accessor.',
      fields: z.object({ mount_accessor: z.string().optional() }),
      fieldHelp: { mount_accessor: 'Only this auth mount\'s locked aliases.' },
      operations: {
        read: async (ctx) => {
          const only = ctx.data.mount_accessor ? ctx.data.mount_accessor : undefined;
          if (only !== undefined && !/^[\w-]+$/.test(only)) throw invalid('invalid mount_accessor');
          const locked = await lockout.listLocked(only);
          const mountAccessors = [...locked].map(([accessor, names]) => ({ mount_accessor: accessor, counts: names.length, alias_identifiers: names }))
            .sort((a, b) => b.counts - a.counts);
          const total = mountAccessors.reduce((n, m) => n + m.counts, 0);
          return { data: { by_namespace: [{ namespace_id: 'root', namespace_path: '', counts: total, mount_accessors: mountAccessors }], total } };
        },
      },
    }),
    definePath({
      pattern: 'locked-users/:mount_accessor/unlock/:alias_identifier',
      help: 'Unlocks a locked alias (a userpass username, an AppRole role_id) of an auth mount.',
      fieldHelp: { mount_accessor: 'Accessor of the auth mount.', alias_identifier: 'The alias to unlock.' },
      operations: {
        update: async (ctx) => {
          const accessor = ctx.params['mount_accessor'] ?? '';
          if (!/^[\w-]+$/.test(accessor)) throw invalid('invalid mount_accessor');
          await lockout.unlock(accessor, ctx.params['alias_identifier'] ?? '');
          return { noContent: true };
        },
      },
    }),
  ];
}
