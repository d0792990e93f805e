import { definePath, type PathSpec } from '../../core/framework.js';
import { deleteGroup, upsertGroup, type GroupInput } from '../../core/identity/groups.js';
import type { Group } from '../../core/identity/records.js';
import type { IdentityStore } from '../../core/identity/store.js';
import type { CoreResponse } from '../../core/request.js';
import { notFound } from '../../util/errors.js';
import { FIELD_HELP, groupFields } from './fields.js';
import { groupData, groupList } from './shapes.js';

type GroupFields = {
  id?: string | undefined; name?: string | undefined; type?: string | undefined; metadata?: Record<string, string> | undefined;
  policies?: string[] | undefined; member_entity_ids?: string[] | undefined; member_group_ids?: string[] | undefined;
};

/** identity/group, group/id/:id, group/name/:name and their lists. */
export function groupPaths(store: IdentityStore): PathSpec[] {
  const input = (d: GroupFields): GroupInput => ({
    id: d.id, name: d.name, type: d.type, metadata: d.metadata, policies: d.policies, memberEntityIds: d.member_entity_ids, memberGroupIds: d.member_group_ids,
  });
  const write = async (i: GroupInput, byName = false): Promise<CoreResponse> => {
    const { group, created } = await store.write((env) => upsertGroup(env, i, { byName }));
    return created ? { data: { id: group.id, name: group.name } } : { noContent: true };
  };
  const read = (group: Group | undefined): CoreResponse => {
    if (!group) throw notFound();
    return { data: groupData(store.env, group) };
  };
  const list = (byId: boolean): CoreResponse => {
    const out = groupList(store.env, byId);
    if (out.keys.length === 0) throw notFound();
    return { data: out };
  };

  return [
    definePath({
      pattern: 'group',
      help: 'Creates a group, or updates the one given by `id`.',
      fields: groupFields,
      fieldHelp: FIELD_HELP,
      operations: { update: (ctx) => write(input(ctx.data)) },
    }),
    definePath({
      pattern: 'group/id',
      help: 'Lists groups by id (`keys`, with `key_info`).',
      operations: { list: async () => list(true) },
    }),
    definePath({
      pattern: 'group/id/:id',
      help: 'Reads, updates or deletes a group by id.',
      fields: groupFields,
      fieldHelp: FIELD_HELP,
      operations: {
        read: async (ctx) => read(store.env.state.group(ctx.params['id'] ?? '')),
        update: (ctx) => write({ ...input(ctx.data), id: ctx.params['id'] ?? '' }),
        delete: async (ctx) => {
          await store.write((env) => deleteGroup(env, { id: ctx.params['id'] ?? '' }));
          return { noContent: true };
        },
      },
    }),
    definePath({
      pattern: 'group/name',
      help: 'Lists groups by name (`keys`, with `key_info` by id).',
      operations: { list: async () => list(false) },
    }),
    definePath({
      pattern: 'group/name/:name',
      help: 'Reads, creates or updates, or deletes a group by name.',
      fields: groupFields,
      fieldHelp: FIELD_HELP,
      operations: {
        read: async (ctx) => read(store.env.state.groupByName(ctx.params['name'] ?? '')),
        update: (ctx) => write({ ...input(ctx.data), id: undefined, name: ctx.params['name'] ?? '' }, true),
        delete: async (ctx) => {
          await store.write((env) => deleteGroup(env, { name: ctx.params['name'] ?? '' }));
          return { noContent: true };
        },
      },
    }),
  ];
}
