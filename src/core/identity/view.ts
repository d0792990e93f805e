import type { IdentityView } from '../acl/types.js';
import type { Entity, Group } from './records.js';
import type { IdentityState } from './state.js';

/** The groups an entity is in: listed as a member (direct), or through nested groups (inherited). */
export function groupsOf(state: IdentityState, entityId: string): { direct: Group[]; inherited: Group[] } {
  const direct = state.directGroupsOf(entityId);
  return { direct, inherited: state.ancestorsOf(direct) };
}

/** What the ACL sees of an entity: its attributes, all its groups and the policies they bring. */
export function buildView(state: IdentityState, entity: Entity): IdentityView {
  const { direct, inherited } = groupsOf(state, entity.id);
  const groups = [...direct, ...inherited];
  const policies = new Set(entity.policies);
  for (const g of groups) for (const p of g.policies) policies.add(p);
  return {
    entityId: entity.id,
    entityName: entity.name,
    metadata: entity.metadata,
    aliases: entity.aliases.map((a) => ({ id: a.id, name: a.name, mountAccessor: a.mount_accessor, metadata: a.metadata })),
    groups: groups.map((g) => ({ id: g.id, name: g.name, metadata: g.metadata })),
    policies: [...policies].sort(),
    disabled: entity.disabled,
    cacheKey: `${entity.id}@${state.generation}`,
  };
}
