/**
 * The identity records as stored inside the barrier (under `sys/identity/<namespace>/`), with
 * Vault's field names: an entity holds its aliases, a group its (single) alias.
 */
import * as z from 'zod';

const stringMap = z.record(z.string(), z.string());

export const aliasSchema = z.object({
  id: z.string(),
  /** The entity (or, for a group alias, the group) it belongs to. */
  canonical_id: z.string(),
  mount_accessor: z.string(),
  /** The mount's type when the alias was made; reads show the mount's current type. */
  mount_type: z.string(),
  name: z.string(),
  /** Set by the auth method at login. */
  metadata: stringMap,
  /** Set through the API. */
  custom_metadata: stringMap,
  creation_time: z.string(),
  last_update_time: z.string(),
  merged_from_canonical_ids: z.array(z.string()),
  local: z.boolean(),
});
export type Alias = z.infer<typeof aliasSchema>;

export const entitySchema = z.object({
  id: z.string(),
  name: z.string(),
  namespace_id: z.string(),
  metadata: stringMap,
  policies: z.array(z.string()),
  disabled: z.boolean(),
  creation_time: z.string(),
  last_update_time: z.string(),
  /** Entities merged into this one: tokens that still name them act as this entity. */
  merged_entity_ids: z.array(z.string()),
  aliases: z.array(aliasSchema),
});
export type Entity = z.infer<typeof entitySchema>;

export const groupSchema = z.object({
  id: z.string(),
  name: z.string(),
  namespace_id: z.string(),
  type: z.enum(['internal', 'external']),
  metadata: stringMap,
  policies: z.array(z.string()),
  /** Internal groups: set through the API. External groups: kept up to date at login. */
  member_entity_ids: z.array(z.string()),
  /** Groups that are members of this one (they inherit its policies). Internal groups only. */
  member_group_ids: z.array(z.string()),
  creation_time: z.string(),
  last_update_time: z.string(),
  modify_index: z.number().int(),
  /** External groups: the name of the group in the auth method (a JWT groups claim value). */
  alias: aliasSchema.nullable(),
});
export type Group = z.infer<typeof groupSchema>;

export const nowIso = (): string => new Date().toISOString();

/** Vault's policy list handling for entities and groups: trimmed, blanks and duplicates dropped, order kept. */
export function cleanPolicies(policies: readonly string[]): string[] {
  return [...new Set(policies.map((p) => p.trim()).filter((p) => p !== ''))];
}
