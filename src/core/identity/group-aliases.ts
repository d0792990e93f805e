/**
 * Group aliases (identity_store_group_aliases.go): the name of an external group in an auth
 * mount (a value of a JWT groups claim). An external group has at most one alias.
 */
import { invalid } from '../../util/errors.js';
import { newAlias, type AliasResult } from './aliases.js';
import { checkName, type IdentityEnv, type Outcome } from './env.js';
import { blankGroup } from './groups.js';
import { nowIso, type Group } from './records.js';

export interface GroupAliasInput {
  readonly id?: string | undefined;
  readonly name?: string | undefined;
  readonly mountAccessor?: string | undefined;
  /** The external group; a new external group is made when absent on create. */
  readonly canonicalId?: string | undefined;
}

/** POST identity/group-alias and group-alias/id/:id. Undefined result: nothing changed (204). */
export function upsertGroupAlias(env: IdentityEnv, input: GroupAliasInput): Outcome<AliasResult> {
  const current = input.id ? env.state.groupAlias(input.id) : undefined;
  if (input.id && !current) throw invalid('invalid group alias ID');
  if (!input.name) throw invalid('missing alias name');
  if (!input.mountAccessor) throw invalid('missing mount_accessor');
  checkName(input.name, 'group alias');
  if (current && current.alias.name === input.name && current.alias.mount_accessor === input.mountAccessor && (!input.canonicalId || input.canonicalId === current.group.id)) {
    return { result: undefined, changes: {} };
  }
  let target: Group | undefined;
  if (input.canonicalId) {
    target = env.state.group(input.canonicalId);
    if (!target) throw invalid("invalid group ID given in 'canonical_id'");
    if (target.type !== 'external') throw invalid("alias can't be set on an internal group");
  }
  const mount = env.mounts.byAccessor(input.mountAccessor);
  if (!mount) throw invalid(`invalid mount accessor ${JSON.stringify(input.mountAccessor)}`);
  if (mount.local) throw invalid(`mount accessor ${JSON.stringify(input.mountAccessor)} is a local mount`);
  const clash = env.state.groupAliasByFactors(input.mountAccessor, input.name);
  if (clash && clash.alias.id !== current?.alias.id) throw invalid('combination of mount and group alias name is already in use');

  const now = nowIso();
  const group = target ?? current?.group ?? blankGroup(env, 'external');
  const alias = current
    ? { ...current.alias, name: input.name, mount_accessor: input.mountAccessor, mount_type: mount.type, canonical_id: group.id, last_update_time: now }
    : newAlias(group.id, input.mountAccessor, mount.type, input.name, {}, {}, false);
  // As in Vault, an alias given to a group that already has one replaces it.
  const groups: Group[] = [{ ...group, alias, modify_index: group.modify_index + 1, last_update_time: now }];
  if (current && current.group.id !== group.id) groups.unshift({ ...current.group, alias: null, modify_index: current.group.modify_index + 1, last_update_time: now });
  return { result: { id: alias.id, canonical_id: group.id }, changes: { groups } };
}

/** DELETE identity/group-alias/id/:id; the group stays (without members from logins to come). */
export function deleteGroupAlias(env: IdentityEnv, id: string): Outcome<undefined> {
  const found = env.state.groupAlias(id);
  if (!found) return { result: undefined, changes: {} };
  const group: Group = { ...found.group, alias: null, modify_index: found.group.modify_index + 1, last_update_time: nowIso() };
  return { result: undefined, changes: { groups: [group] } };
}
