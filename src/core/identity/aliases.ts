/**
 * Entity aliases (identity_store_aliases.go): an entity's name in one auth mount. At most one
 * alias per entity per mount; a (mount accessor, name) pair belongs to one entity.
 */
import { invalid } from '../../util/errors.js';
import { blankEntity } from './entities.js';
import { checkName, newId, type IdentityEnv, type Outcome } from './env.js';
import { nowIso, type Alias, type Entity } from './records.js';

export interface EntityAliasInput {
  readonly id?: string | undefined;
  readonly name?: string | undefined;
  readonly mountAccessor?: string | undefined;
  /** The entity the alias belongs to; a new entity is made when absent on create. */
  readonly canonicalId?: string | undefined;
  readonly customMetadata?: Record<string, string> | undefined;
}

export type AliasResult = { id: string; canonical_id: string } | undefined;

/** POST identity/entity-alias and entity-alias/id/:id. Undefined result: nothing changed (204). */
export function upsertEntityAlias(env: IdentityEnv, input: EntityAliasInput): Outcome<AliasResult> {
  if (input.id) {
    const found = env.state.entityAlias(input.id);
    if (!found) throw invalid('invalid alias ID provided');
    const { alias } = found;
    if (!input.name && !input.mountAccessor && !input.canonicalId && input.customMetadata === undefined) return { result: undefined, changes: {} };
    return updateAlias(env, found.entity, alias, {
      name: input.name || alias.name, mountAccessor: input.mountAccessor || alias.mount_accessor,
      canonicalId: input.canonicalId, customMetadata: input.customMetadata ?? alias.custom_metadata,
    });
  }
  if (!input.mountAccessor || !input.name) throw invalid("'id' or 'mount_accessor' and 'name' must be provided");
  const mount = env.mounts.byAccessor(input.mountAccessor);
  if (!mount) throw invalid(`invalid mount accessor ${JSON.stringify(input.mountAccessor)}`);
  checkName(input.name, 'alias');
  const existing = env.state.entityAliasByFactors(input.mountAccessor, input.name);
  if (existing) {
    return updateAlias(env, existing.entity, existing.alias, {
      name: input.name, mountAccessor: input.mountAccessor, canonicalId: input.canonicalId, customMetadata: input.customMetadata ?? {},
    });
  }
  let entity: Entity;
  if (input.canonicalId) {
    const target = env.state.entity(input.canonicalId);
    if (!target || target.id !== input.canonicalId) throw invalid('invalid canonical ID');
    entity = target;
  } else {
    entity = blankEntity(env);
  }
  if (entity.aliases.some((a) => a.mount_accessor === input.mountAccessor)) throw invalid('Alias already exists for requested entity and mount accessor');
  const alias = newAlias(entity.id, input.mountAccessor, mount.type, input.name, {}, input.customMetadata ?? {}, mount.local);
  const updated: Entity = { ...entity, aliases: [...entity.aliases, alias], last_update_time: alias.creation_time };
  return { result: { id: alias.id, canonical_id: entity.id }, changes: { entities: [updated] } };
}

export function newAlias(canonicalId: string, accessor: string, mountType: string, name: string, metadata: Record<string, string>, custom: Record<string, string>, local: boolean): Alias {
  const now = nowIso();
  return {
    id: newId(), canonical_id: canonicalId, mount_accessor: accessor, mount_type: mountType, name, metadata: { ...metadata }, custom_metadata: { ...custom },
    creation_time: now, last_update_time: now, merged_from_canonical_ids: [], local,
  };
}

interface AliasChange {
  readonly name: string;
  readonly mountAccessor: string;
  readonly canonicalId: string | undefined;
  readonly customMetadata: Record<string, string>;
}

function updateAlias(env: IdentityEnv, current: Entity, alias: Alias, change: AliasChange): Outcome<AliasResult> {
  const moving = change.canonicalId !== undefined && change.canonicalId !== '' && change.canonicalId !== alias.canonical_id;
  if (change.name === alias.name && change.mountAccessor === alias.mount_accessor && !moving && sameMap(change.customMetadata, alias.custom_metadata)) {
    return { result: undefined, changes: {} };
  }
  if (change.mountAccessor !== alias.mount_accessor && !moving && current.aliases.some((a) => a.id !== alias.id && a.mount_accessor === change.mountAccessor)) {
    throw invalid("Alias cannot be updated as the entity already has an alias for the given 'mount_accessor'");
  }
  const mount = env.mounts.byAccessor(change.mountAccessor);
  if (!mount) throw invalid(`invalid mount accessor ${JSON.stringify(change.mountAccessor)}`);
  checkName(change.name, 'alias');
  const clash = env.state.entityAliasByFactors(change.mountAccessor, change.name);
  if (clash && clash.alias.id !== alias.id) throw invalid('alias with combination of mount accessor and name already exists');
  const updated: Alias = {
    ...alias, name: change.name, mount_accessor: change.mountAccessor, mount_type: mount.type, custom_metadata: { ...change.customMetadata }, last_update_time: nowIso(),
  };
  if (!moving) {
    const entity: Entity = { ...current, aliases: current.aliases.map((a) => (a.id === alias.id ? updated : a)) };
    return { result: { id: alias.id, canonical_id: current.id }, changes: { entities: [entity] } };
  }
  const target = env.state.entity(change.canonicalId ?? '');
  if (!target || target.id !== change.canonicalId) throw invalid("given 'canonical_id' is not associated with an entity");
  if (target.aliases.some((a) => a.mount_accessor === change.mountAccessor)) throw invalid('Alias cannot be updated as the given entity already has an alias for this mount');
  const source: Entity = { ...current, aliases: current.aliases.filter((a) => a.id !== alias.id), last_update_time: updated.last_update_time };
  const dest: Entity = { ...target, aliases: [...target.aliases, { ...updated, canonical_id: target.id }], last_update_time: updated.last_update_time };
  return { result: { id: alias.id, canonical_id: target.id }, changes: { entities: [source, dest] } };
}

/** DELETE identity/entity-alias/id/:id; unknown ids are not an error. The entity stays. */
export function deleteEntityAlias(env: IdentityEnv, id: string): Outcome<undefined> {
  const found = env.state.entityAlias(id);
  if (!found) return { result: undefined, changes: {} };
  const entity: Entity = { ...found.entity, aliases: found.entity.aliases.filter((a) => a.id !== id), last_update_time: nowIso() };
  return { result: undefined, changes: { entities: [entity] } };
}

export function sameMap(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && b[k] === a[k]);
}
