/**
 * Entity operations with Vault's rules (identity_store_entities.go): create or update by id or
 * by name, delete (leaving every group it was in), merge. Each returns the records to write.
 */
import { invalid } from '../../util/errors.js';
import { assertNoRoot, checkName, generatedName, newId, type IdentityEnv, type Outcome } from './env.js';
import { cleanPolicies, nowIso, type Entity, type Group } from './records.js';

export interface EntityInput {
  /** Update this entity (it must exist). */
  readonly id?: string | undefined;
  readonly name?: string | undefined;
  readonly metadata?: Record<string, string> | undefined;
  readonly policies?: readonly string[] | undefined;
  readonly disabled?: boolean | undefined;
}

/** A new, empty entity (for an alias's first login, or an API create). */
export function blankEntity(env: IdentityEnv, name?: string): Entity {
  const id = newId();
  const now = nowIso();
  return {
    id, name: name ?? generatedName('entity', id), namespace_id: env.namespace, metadata: {}, policies: [], disabled: false,
    creation_time: now, last_update_time: now, merged_entity_ids: [], aliases: [],
  };
}

/**
 * POST identity/entity, entity/id/:id and entity/name/:name. With an id the entity must exist;
 * with only a name, the entity of that name is updated or a new one made.
 */
export function upsertEntity(env: IdentityEnv, input: EntityInput): Outcome<{ entity: Entity; created: boolean }> {
  let existing: Entity | undefined;
  if (input.id) {
    existing = env.state.entity(input.id);
    if (!existing || existing.id !== input.id) throw invalid('entity not found from id');
  }
  if (input.name) {
    checkName(input.name, 'entity');
    const byName = env.state.entityByName(input.name);
    if (byName && !existing) existing = byName;
    else if (byName && existing && byName.id !== existing.id) throw invalid('entity name is already in use');
  }
  const policies = input.policies === undefined ? existing?.policies ?? [] : cleanPolicies(input.policies);
  assertNoRoot(policies);
  const base = existing ?? blankEntity(env, input.name || undefined);
  const entity: Entity = {
    ...base,
    name: input.name || base.name,
    policies,
    metadata: input.metadata === undefined ? base.metadata : { ...input.metadata },
    disabled: input.disabled ?? base.disabled,
    last_update_time: existing ? nowIso() : base.last_update_time,
  };
  return { result: { entity, created: !existing }, changes: { entities: [entity] } };
}

/** Removes an entity and its aliases, and takes it out of every group. Unknown ids are not an error. */
export function deleteEntity(env: IdentityEnv, id: string): Outcome<undefined> {
  const entity = env.state.entity(id);
  if (!entity || entity.id !== id) return { result: undefined, changes: {} };
  const groups = env.state.directGroupsOf(id).map((g) => withoutMember(g, id));
  return { result: undefined, changes: { deleteEntities: [id], groups } };
}

function withoutMember(g: Group, entityId: string): Group {
  return { ...g, member_entity_ids: g.member_entity_ids.filter((m) => m !== entityId), modify_index: g.modify_index + 1, last_update_time: nowIso() };
}

export interface MergeInput {
  readonly toEntityId: string;
  readonly fromEntityIds: readonly string[];
  /** When both entities have an alias on the same mount: the alias to keep (one from entity only). */
  readonly conflictingAliasIdsToKeep: readonly string[];
}

/**
 * POST identity/entity/merge: the from entities' aliases move to the target, their ids are
 * remembered as merged (tokens naming them now act as the target), their group memberships move
 * to the target, and they are deleted. Policies and metadata of the target stay as they are.
 */
export function mergeEntities(env: IdentityEnv, input: MergeInput): Outcome<undefined> {
  const to = env.state.entity(input.toEntityId);
  if (!to || to.id !== input.toEntityId) throw invalid('entity id to merge to is invalid');
  const fromIds = [...new Set(input.fromEntityIds)];
  if (fromIds.length === 0) throw invalid('missing entity ids to merge from');
  if (fromIds.length > 1 && input.conflictingAliasIdsToKeep.length > 0) {
    throw invalid('aliases conflicts cannot be resolved with multiple from entity ids - merge one entity at a time');
  }
  let aliases = [...to.aliases];
  const merged = new Set(to.merged_entity_ids);
  const seenAccessors = new Map<string, string>();
  const groups = new Map<string, Group>();
  const now = nowIso();
  for (const fromId of fromIds) {
    if (fromId === to.id) throw invalid('to_entity_id should not be present in from_entity_ids');
    const from = env.state.entity(fromId);
    if (!from || from.id !== fromId) throw invalid('entity id to merge from is invalid');
    for (const alias of from.aliases) {
      const other = seenAccessors.get(alias.mount_accessor);
      if (other !== undefined && other !== fromId) throw invalid(`mount accessor ${alias.mount_accessor} found in multiple fromEntities, merge should be done with one fromEntity at a time`);
      seenAccessors.set(alias.mount_accessor, fromId);
      const clash = aliases.find((a) => a.mount_accessor === alias.mount_accessor);
      if (clash) {
        if (input.conflictingAliasIdsToKeep.length === 0) {
          throw invalid(`toEntity and at least one fromEntity have aliases with the same mount accessor, repeat the merge request specifying exactly one fromEntity, clashes: mountAccessor: ${alias.mount_accessor}, toEntity ID: ${to.id}, fromEntity ID: ${fromId}, conflicting toEntity alias ID: ${clash.id}, conflicting fromEntity alias ID: ${alias.id}`);
        }
        if (input.conflictingAliasIdsToKeep.includes(clash.id)) continue;
        if (!input.conflictingAliasIdsToKeep.includes(alias.id)) throw invalid(`neither alias ${clash.id} nor ${alias.id} is in conflicting_alias_ids_to_keep`);
        aliases = aliases.filter((a) => a.id !== clash.id);
      }
      aliases.push({ ...alias, canonical_id: to.id, merged_from_canonical_ids: [...alias.merged_from_canonical_ids, fromId], last_update_time: now });
    }
    merged.add(fromId);
    for (const old of from.merged_entity_ids) merged.add(old);
    for (const g of env.state.directGroupsOf(fromId)) {
      const current = groups.get(g.id) ?? g;
      const members = current.member_entity_ids.map((m) => (m === fromId ? to.id : m));
      groups.set(g.id, { ...current, member_entity_ids: [...new Set(members)], modify_index: current.modify_index + 1, last_update_time: now });
    }
  }
  const entity: Entity = { ...to, aliases, merged_entity_ids: [...merged], last_update_time: now };
  return { result: undefined, changes: { entities: [entity], groups: [...groups.values()], deleteEntities: fromIds } };
}
