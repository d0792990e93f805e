/**
 * Groups (identity_store_groups.go). Internal groups list their member entities and member
 * groups (nested: a member group's entities inherit this group's policies; no cycles). External
 * groups get their members from logins, through their alias on an auth mount.
 */
import { invalid } from '../../util/errors.js';
import { assertNoRoot, checkName, generatedName, newId, type IdentityEnv, type Outcome } from './env.js';
import { cleanPolicies, nowIso, type Group } from './records.js';

/** Limit on directly listed member entities, as Vault's. */
const MAX_MEMBER_ENTITIES = 512;

export interface GroupInput {
  readonly id?: string | undefined;
  readonly name?: string | undefined;
  readonly type?: string | undefined;
  readonly metadata?: Record<string, string> | undefined;
  readonly policies?: readonly string[] | undefined;
  readonly memberEntityIds?: readonly string[] | undefined;
  readonly memberGroupIds?: readonly string[] | undefined;
}

export function blankGroup(env: IdentityEnv, type: 'internal' | 'external', name?: string): Group {
  const id = newId();
  const now = nowIso();
  return {
    id, name: name ?? generatedName('group', id), namespace_id: env.namespace, type, metadata: {}, policies: [],
    member_entity_ids: [], member_group_ids: [], creation_time: now, last_update_time: now, modify_index: 0, alias: null,
  };
}

/**
 * POST identity/group (create; with `id`, update), group/id/:id (update) and group/name/:name
 * (create or update). A create that names an existing group is refused, as in Vault.
 */
export function upsertGroup(env: IdentityEnv, input: GroupInput, options: { byName?: boolean } = {}): Outcome<{ group: Group; created: boolean }> {
  let existing: Group | undefined;
  if (input.id) {
    existing = env.state.group(input.id);
    if (!existing) throw invalid('invalid group ID');
  } else if (options.byName && input.name) {
    existing = env.state.groupByName(input.name);
  }
  const policies = input.policies === undefined ? existing?.policies ?? [] : cleanPolicies(input.policies);
  assertNoRoot(policies);
  let type = existing?.type;
  if (input.type !== undefined && input.type !== '') {
    if (existing && input.type !== existing.type) throw invalid('group type cannot be changed');
    if (input.type !== 'internal' && input.type !== 'external') throw invalid(`invalid group type ${JSON.stringify(input.type)}`);
    type = input.type;
  }
  if (input.name) {
    checkName(input.name, 'group');
    const byName = env.state.groupByName(input.name);
    if (byName && byName.id !== existing?.id) throw invalid('group name is already in use');
  }
  const base = existing ?? blankGroup(env, type ?? 'internal', input.name || undefined);
  const external = base.type === 'external';
  if (input.memberEntityIds !== undefined) {
    if (external) throw invalid("member entities can't be set manually for external groups");
    if (input.memberEntityIds.length > MAX_MEMBER_ENTITIES) throw invalid(`member entity IDs exceeding the limit of ${MAX_MEMBER_ENTITIES}`);
    for (const id of input.memberEntityIds) if (env.state.entity(id)?.id !== id) throw invalid(`invalid member entity ID ${JSON.stringify(id)}`);
  }
  if (input.memberGroupIds !== undefined) {
    if (external) throw invalid("member groups can't be set for external groups");
    checkMemberGroups(env, base.id, input.memberGroupIds);
  }
  const group: Group = {
    ...base,
    name: input.name || base.name,
    policies,
    metadata: input.metadata === undefined ? base.metadata : { ...input.metadata },
    member_entity_ids: input.memberEntityIds === undefined ? base.member_entity_ids : [...new Set(input.memberEntityIds)],
    member_group_ids: input.memberGroupIds === undefined ? base.member_group_ids : [...new Set(input.memberGroupIds)],
    modify_index: base.modify_index + 1,
    last_update_time: existing ? nowIso() : base.last_update_time,
  };
  return { result: { group, created: !existing }, changes: { groups: [group] } };
}

/** Every member group must exist and must not contain `groupId` (directly or through its own members). */
function checkMemberGroups(env: IdentityEnv, groupId: string, memberIds: readonly string[]): void {
  for (const memberId of memberIds) {
    if (memberId === groupId) throw invalid(`member group ID ${JSON.stringify(memberId)} is same as the ID of the group`);
    if (!env.state.group(memberId)) throw invalid(`invalid member group ID ${JSON.stringify(memberId)}`);
    // Walk down from the member: reaching this group would close a loop.
    const seen = new Set<string>();
    const stack = [memberId];
    for (let id = stack.pop(); id !== undefined; id = stack.pop()) {
      if (seen.has(id)) continue;
      seen.add(id);
      if (id === groupId) throw invalid(`cyclic relationship detected for member group ID ${JSON.stringify(memberId)}`);
      stack.push(...(env.state.group(id)?.member_group_ids ?? []));
    }
  }
}

/** DELETE by id or name; the group also leaves the groups it was a member of. Unknown ones are not an error. */
export function deleteGroup(env: IdentityEnv, ref: { id: string } | { name: string }): Outcome<undefined> {
  const group = 'id' in ref ? env.state.group(ref.id) : env.state.groupByName(ref.name);
  if (!group) return { result: undefined, changes: {} };
  const parents = env.state.parentsOf(group.id).map((p) => ({
    ...p, member_group_ids: p.member_group_ids.filter((m) => m !== group.id), modify_index: p.modify_index + 1, last_update_time: nowIso(),
  }));
  return { result: undefined, changes: { deleteGroups: [group.id], groups: parents } };
}

/**
 * At login: the entity becomes a member of exactly those external groups on this mount whose
 * alias name is among `groupNames` (and leaves the others on this mount).
 */
export function syncExternalGroups(env: IdentityEnv, entityId: string, mountAccessor: string, groupNames: readonly string[]): Group[] {
  const should = new Map<string, Group>();
  for (const name of groupNames) {
    const found = env.state.groupAliasByFactors(mountAccessor, name);
    if (found && found.group.type === 'external') should.set(found.group.id, found.group);
  }
  const current = env.state.directGroupsOf(entityId).filter((g) => g.type === 'external' && g.alias?.mount_accessor === mountAccessor);
  const now = nowIso();
  const changed: Group[] = [];
  for (const g of should.values()) {
    if (!g.member_entity_ids.includes(entityId)) changed.push({ ...g, member_entity_ids: [...g.member_entity_ids, entityId], modify_index: g.modify_index + 1, last_update_time: now });
  }
  for (const g of current) {
    if (!should.has(g.id)) changed.push({ ...g, member_entity_ids: g.member_entity_ids.filter((m) => m !== entityId), modify_index: g.modify_index + 1, last_update_time: now });
  }
  return changed;
}
