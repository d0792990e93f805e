import { definePath, type PathSpec } from '../../core/framework.js';
import { deleteEntity, mergeEntities, upsertEntity, type EntityInput } from '../../core/identity/entities.js';
import type { Entity } from '../../core/identity/records.js';
import type { IdentityStore } from '../../core/identity/store.js';
import type { CoreResponse } from '../../core/request.js';
import { invalid, notFound } from '../../util/errors.js';
import { batchDeleteFields, entityFields, FIELD_HELP, mergeFields } from './fields.js';
import { entityData, entityList } from './shapes.js';

type EntityFields = { id?: string | undefined; name?: string | undefined; metadata?: Record<string, string> | undefined; policies?: string[] | undefined; disabled?: boolean | undefined };

/** identity/entity, entity/id/:id, entity/name/:name, their lists, batch-delete and merge. */
export function entityPaths(store: IdentityStore): PathSpec[] {
  const write = async (input: EntityInput): Promise<CoreResponse> => {
    const { entity, created } = await store.write((env) => upsertEntity(env, input));
    // As Vault: a new entity answers with its id, an update with 204.
    return created ? { data: { id: entity.id, name: entity.name, aliases: null } } : { noContent: true };
  };
  const fromFields = (d: EntityFields): EntityInput => ({ id: d.id, name: d.name, metadata: d.metadata, policies: d.policies, disabled: d.disabled });
  const read = (find: (key: string) => Entity | undefined) => (key: string): CoreResponse => {
    const entity = find(key);
    if (!entity) throw notFound();
    return { data: entityData(store.env, entity) };
  };
  const list = (byId: boolean): CoreResponse => {
    const out = entityList(store.env, byId);
    if (out.keys.length === 0) throw notFound();
    return { data: out };
  };
  const remove = async (id: string | undefined): Promise<CoreResponse> => {
    if (id !== undefined) await store.write((env) => deleteEntity(env, id));
    return { noContent: true };
  };
  const byId = read((id) => {
    const e = store.env.state.entity(id);
    return e?.id === id ? e : undefined;
  });
  const byName = read((name) => store.env.state.entityByName(name));

  return [
    definePath({
      pattern: 'entity',
      help: 'Creates an entity, or updates the one named by `id` (or by `name`).',
      fields: entityFields,
      fieldHelp: FIELD_HELP,
      operations: { update: (ctx) => write(fromFields(ctx.data)) },
    }),
    definePath({
      pattern: 'entity/id',
      help: 'Lists entities by id (`keys`, with `key_info`).',
      operations: { list: async () => list(true) },
    }),
    definePath({
      pattern: 'entity/id/:id',
      help: 'Reads, updates or deletes an entity by id.',
      fields: entityFields,
      fieldHelp: FIELD_HELP,
      operations: {
        read: async (ctx) => byId(ctx.params['id'] ?? ''),
        update: (ctx) => write({ ...fromFields(ctx.data), id: ctx.params['id'] ?? '' }),
        delete: async (ctx) => remove(ctx.params['id']),
      },
    }),
    definePath({
      pattern: 'entity/name',
      help: 'Lists entities by name (`keys`, with `key_info` by id).',
      operations: { list: async () => list(false) },
    }),
    definePath({
      pattern: 'entity/name/:name',
      help: 'Reads, creates or updates, or deletes an entity by name.',
      fields: entityFields,
      fieldHelp: FIELD_HELP,
      operations: {
        read: async (ctx) => byName(ctx.params['name'] ?? ''),
        update: (ctx) => write({ ...fromFields(ctx.data), id: undefined, name: ctx.params['name'] ?? '' }),
        delete: async (ctx) => remove(store.env.state.entityByName(ctx.params['name'] ?? '')?.id),
      },
    }),
    definePath({
      pattern: 'entity/batch-delete',
      help: 'Deletes the entities listed in `entity_ids`.',
      fields: batchDeleteFields,
      fieldHelp: { entity_ids: 'Entity IDs to delete.' },
      operations: {
        update: async (ctx) => {
          const ids = ctx.data.entity_ids ?? [];
          if (ids.length === 0) throw invalid('missing entity ids to delete');
          for (const id of ids) await store.write((env) => deleteEntity(env, id));
          return { noContent: true };
        },
      },
    }),
    definePath({
      pattern: 'entity/merge',
      help: 'Merges the entities in `from_entity_ids` into `to_entity_id` (aliases, group memberships; the sources are deleted).',
      fields: mergeFields,
      fieldHelp: {
        to_entity_id: 'The entity to merge into.', from_entity_ids: 'The entities to merge from.',
        conflicting_alias_ids_to_keep: 'When both have an alias on the same mount: the alias IDs to keep.', force: 'Accepted for compatibility (MFA secrets are not merged).',
      },
      operations: {
        update: async (ctx) => {
          if (!ctx.data.to_entity_id) throw invalid('missing entity id to merge to');
          const from = ctx.data.from_entity_ids ?? [];
          if (from.length === 0) throw invalid('missing entity ids to merge from');
          await store.write((env) => mergeEntities(env, { toEntityId: ctx.data.to_entity_id ?? '', fromEntityIds: from, conflictingAliasIdsToKeep: ctx.data.conflicting_alias_ids_to_keep ?? [] }));
          return { noContent: true };
        },
      },
    }),
  ];
}
