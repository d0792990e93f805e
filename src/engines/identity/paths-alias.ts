import { definePath, type PathSpec } from '../../core/framework.js';
import { deleteEntityAlias, upsertEntityAlias, type EntityAliasInput } from '../../core/identity/aliases.js';
import { deleteGroupAlias, upsertGroupAlias } from '../../core/identity/group-aliases.js';
import type { IdentityStore } from '../../core/identity/store.js';
import type { CoreResponse } from '../../core/request.js';
import { notFound } from '../../util/errors.js';
import { aliasFields, FIELD_HELP, groupAliasFields } from './fields.js';
import { aliasData, aliasList } from './shapes.js';

type AliasFields = { id?: string | undefined; name?: string | undefined; mount_accessor?: string | undefined; canonical_id?: string | undefined; entity_id?: string | undefined; custom_metadata?: Record<string, string> | undefined };

/** identity/entity-alias[/id[/:id]] and identity/group-alias[/id[/:id]]. */
export function aliasPaths(store: IdentityStore): PathSpec[] {
  const answer = (result: { id: string; canonical_id: string } | undefined): CoreResponse => (result ? { data: result } : { noContent: true });
  const entityInput = (d: AliasFields, id?: string): EntityAliasInput => ({
    id: id ?? d.id, name: d.name, mountAccessor: d.mount_accessor, canonicalId: d.canonical_id || d.entity_id, customMetadata: d.custom_metadata,
  });
  const readEntityAlias = (id: string): CoreResponse => {
    const found = store.env.state.entityAlias(id);
    if (!found) throw notFound();
    return { data: aliasData(store.env, found.alias) };
  };
  const readGroupAlias = (id: string): CoreResponse => {
    const found = store.env.state.groupAlias(id);
    if (!found) throw notFound();
    return { data: aliasData(store.env, found.alias) };
  };

  return [
    definePath({
      pattern: 'entity-alias',
      help: 'Creates an entity alias (with `mount_accessor` and `name`), or updates the one given by `id`.',
      fields: aliasFields,
      fieldHelp: FIELD_HELP,
      operations: { update: async (ctx) => answer(await store.write((env) => upsertEntityAlias(env, entityInput(ctx.data)))) },
    }),
    definePath({
      pattern: 'entity-alias/id',
      help: 'Lists entity aliases by id (`keys`, with `key_info`).',
      operations: {
        list: async () => {
          const out = aliasList(store.env, store.env.state.entities().flatMap((e) => e.aliases));
          if (out.keys.length === 0) throw notFound();
          return { data: out };
        },
      },
    }),
    definePath({
      pattern: 'entity-alias/id/:id',
      help: 'Reads, updates or deletes an entity alias by id.',
      fields: aliasFields,
      fieldHelp: FIELD_HELP,
      operations: {
        read: async (ctx) => readEntityAlias(ctx.params['id'] ?? ''),
        update: async (ctx) => answer(await store.write((env) => upsertEntityAlias(env, entityInput(ctx.data, ctx.params['id'] ?? '')))),
        delete: async (ctx) => {
          await store.write((env) => deleteEntityAlias(env, ctx.params['id'] ?? ''));
          return { noContent: true };
        },
      },
    }),
    definePath({
      pattern: 'group-alias',
      help: 'Creates a group alias (`name`, `mount_accessor`, `canonical_id` of an external group), or updates the one given by `id`.',
      fields: groupAliasFields,
      fieldHelp: FIELD_HELP,
      operations: {
        update: async (ctx) => answer(await store.write((env) => upsertGroupAlias(env, {
          id: ctx.data.id, name: ctx.data.name, mountAccessor: ctx.data.mount_accessor, canonicalId: ctx.data.canonical_id,
        }))),
      },
    }),
    definePath({
      pattern: 'group-alias/id',
      help: 'Lists group aliases by id (`keys`, with `key_info`).',
      operations: {
        list: async () => {
          const out = aliasList(store.env, store.env.state.groups().flatMap((g) => (g.alias ? [g.alias] : [])));
          if (out.keys.length === 0) throw notFound();
          return { data: out };
        },
      },
    }),
    definePath({
      pattern: 'group-alias/id/:id',
      help: 'Reads, updates or deletes a group alias by id.',
      fields: groupAliasFields,
      fieldHelp: FIELD_HELP,
      operations: {
        read: async (ctx) => readGroupAlias(ctx.params['id'] ?? ''),
        update: async (ctx) => answer(await store.write((env) => upsertGroupAlias(env, {
          id: ctx.params['id'] ?? '', name: ctx.data.name, mountAccessor: ctx.data.mount_accessor, canonicalId: ctx.data.canonical_id,
        }))),
        delete: async (ctx) => {
          await store.write((env) => deleteGroupAlias(env, ctx.params['id'] ?? ''));
          return { noContent: true };
        },
      },
    }),
  ];
}
