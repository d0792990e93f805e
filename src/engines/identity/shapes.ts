/**
 * The identity records as Vault's API shows them (OpenBao vault/identity_store_*.go read and
 * list handlers). As in Go, empty maps and lists that Vault keeps as nil come out as null.
 */
import type { IdentityEnv } from '../../core/identity/env.js';
import type { Alias, Entity, Group } from '../../core/identity/records.js';
import { groupsOf } from '../../core/identity/view.js';

const mapOrNull = (m: Readonly<Record<string, string>>): Record<string, string> | null => (Object.keys(m).length > 0 ? { ...m } : null);
const listOrNull = (l: readonly string[]): string[] | null => (l.length > 0 ? [...l] : null);

/** mount_path and mount_type come from the mount as it is now; absent when the mount is gone. */
function mountFields(env: IdentityEnv, accessor: string): Record<string, string> {
  const mount = env.mounts.byAccessor(accessor);
  return mount ? { mount_path: mount.path, mount_type: mount.type } : {};
}

export function aliasData(env: IdentityEnv, a: Alias): Record<string, unknown> {
  return {
    id: a.id,
    canonical_id: a.canonical_id,
    mount_accessor: a.mount_accessor,
    metadata: mapOrNull(a.metadata),
    custom_metadata: mapOrNull(a.custom_metadata),
    name: a.name,
    merged_from_canonical_ids: listOrNull(a.merged_from_canonical_ids),
    namespace_id: 'root',
    local: a.local,
    ...mountFields(env, a.mount_accessor),
    creation_time: a.creation_time,
    last_update_time: a.last_update_time,
  };
}

/** A group alias, as Vault shows it: no custom metadata, no local flag. */
function groupAliasData(env: IdentityEnv, a: Alias): Record<string, unknown> {
  const { custom_metadata: _c, local: _l, namespace_id: _n, ...rest } = aliasData(env, a);
  return rest;
}

export function entityData(env: IdentityEnv, e: Entity): Record<string, unknown> {
  const { direct, inherited } = groupsOf(env.state, e.id);
  const directIds = direct.map((g) => g.id);
  const inheritedIds = inherited.map((g) => g.id);
  return {
    id: e.id,
    name: e.name,
    metadata: mapOrNull(e.metadata),
    merged_entity_ids: listOrNull(e.merged_entity_ids),
    policies: listOrNull(e.policies),
    disabled: e.disabled,
    namespace_id: e.namespace_id,
    creation_time: e.creation_time,
    last_update_time: e.last_update_time,
    aliases: e.aliases.map((a) => {
      const { namespace_id: _n, ...rest } = aliasData(env, a);
      return rest;
    }),
    direct_group_ids: directIds,
    inherited_group_ids: inheritedIds,
    group_ids: [...directIds, ...inheritedIds],
  };
}

export function groupData(env: IdentityEnv, g: Group): Record<string, unknown> {
  return {
    id: g.id,
    name: g.name,
    policies: listOrNull(g.policies),
    member_entity_ids: [...g.member_entity_ids],
    parent_group_ids: listOrNull(env.state.parentsOf(g.id).map((p) => p.id)),
    metadata: mapOrNull(g.metadata),
    creation_time: g.creation_time,
    last_update_time: g.last_update_time,
    modify_index: g.modify_index,
    type: g.type,
    namespace_id: g.namespace_id,
    alias: g.alias ? groupAliasData(env, g.alias) : {},
    member_group_ids: listOrNull(g.member_group_ids),
  };
}

/** LIST identity/entity/id|name: keys, and key_info by entity id (for both, as Vault). */
export function entityList(env: IdentityEnv, byId: boolean): { keys: string[]; key_info: Record<string, unknown> } {
  const entities = env.state.entities().sort((a, b) => (byId ? a.id.localeCompare(b.id) : a.name.localeCompare(b.name)));
  const key_info: Record<string, unknown> = {};
  for (const e of entities) {
    key_info[e.id] = {
      name: e.name,
      ...(e.aliases.length > 0 ? { aliases: e.aliases.map((a) => ({ id: a.id, name: a.name, mount_accessor: a.mount_accessor, ...mountFields(env, a.mount_accessor) })) } : {}),
    };
  }
  return { keys: entities.map((e) => (byId ? e.id : e.name)), key_info };
}

/** LIST identity/group/id|name: keys, and key_info by group id. */
export function groupList(env: IdentityEnv, byId: boolean): { keys: string[]; key_info: Record<string, unknown> } {
  const groups = env.state.groups().sort((a, b) => (byId ? a.id.localeCompare(b.id) : a.name.localeCompare(b.name)));
  const key_info: Record<string, unknown> = {};
  for (const g of groups) {
    key_info[g.id] = {
      name: g.name,
      num_member_entities: g.member_entity_ids.length,
      num_parent_groups: env.state.parentsOf(g.id).length,
      ...(g.alias ? { alias: { id: g.alias.id, name: g.alias.name, mount_accessor: g.alias.mount_accessor, ...mountFields(env, g.alias.mount_accessor) } } : {}),
    };
  }
  return { keys: groups.map((g) => (byId ? g.id : g.name)), key_info };
}

/** LIST identity/entity-alias/id and group-alias/id. */
export function aliasList(env: IdentityEnv, aliases: readonly Alias[]): { keys: string[]; key_info: Record<string, unknown> } {
  const sorted = [...aliases].sort((a, b) => a.id.localeCompare(b.id));
  const key_info: Record<string, unknown> = {};
  for (const a of sorted) {
    key_info[a.id] = {
      name: a.name, canonical_id: a.canonical_id, mount_accessor: a.mount_accessor,
      custom_metadata: mapOrNull(a.custom_metadata), metadata: mapOrNull(a.metadata), local: a.local, ...mountFields(env, a.mount_accessor),
    };
  }
  return { keys: sorted.map((a) => a.id), key_info };
}
