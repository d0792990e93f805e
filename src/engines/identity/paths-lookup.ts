import { definePath, type PathSpec } from '../../core/framework.js';
import { lookupEntity, lookupGroup, type LookupInput } from '../../core/identity/lookup.js';
import type { IdentityStore } from '../../core/identity/store.js';
import { lookupFields } from './fields.js';
import { entityData, groupData } from './shapes.js';

type LookupFields = { id?: string | undefined; name?: string | undefined; alias_id?: string | undefined; alias_name?: string | undefined; alias_mount_accessor?: string | undefined };

const HELP = {
  id: 'ID to look up.', name: 'Name to look up.', alias_id: 'ID of an alias.',
  alias_name: 'Name of an alias (with alias_mount_accessor).', alias_mount_accessor: 'Accessor of the alias\'s mount (with alias_name).',
};

/** identity/lookup/entity and lookup/group. Nothing found is a 204, as in Vault. */
export function lookupPaths(store: IdentityStore): PathSpec[] {
  const input = (d: LookupFields): LookupInput => ({ id: d.id, name: d.name, aliasId: d.alias_id, aliasName: d.alias_name, aliasMountAccessor: d.alias_mount_accessor });
  return [
    definePath({
      pattern: 'lookup/entity',
      help: 'Finds an entity by `id`, `name`, `alias_id`, or `alias_name` with `alias_mount_accessor`.',
      fields: lookupFields,
      fieldHelp: HELP,
      operations: {
        update: async (ctx) => {
          const entity = lookupEntity(store.env, input(ctx.data));
          return entity ? { data: entityData(store.env, entity) } : { noContent: true };
        },
      },
    }),
    definePath({
      pattern: 'lookup/group',
      help: 'Finds a group by `id`, `name`, `alias_id`, or `alias_name` with `alias_mount_accessor`.',
      fields: lookupFields,
      fieldHelp: HELP,
      operations: {
        update: async (ctx) => {
          const group = lookupGroup(store.env, input(ctx.data));
          return group ? { data: groupData(store.env, group) } : { noContent: true };
        },
      },
    }),
  ];
}
