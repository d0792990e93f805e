import * as z from 'zod';
import { bool, kvPairs, strings } from '../../core/fields.js';

/** A string field that also accepts numbers (clients send ids and names loosely). */
export const text = () => z.union([z.string(), z.number().transform(String)]).meta({ type: 'string' });

export const entityFields = z.object({
  id: text().optional(),
  name: text().optional(),
  metadata: kvPairs().optional(),
  policies: strings().optional(),
  disabled: bool().optional(),
});

export const aliasFields = z.object({
  id: text().optional(),
  name: text().optional(),
  mount_accessor: text().optional(),
  canonical_id: text().optional(),
  /** Vault's older spelling of canonical_id. */
  entity_id: text().optional(),
  custom_metadata: kvPairs().optional(),
});

export const groupFields = z.object({
  id: text().optional(),
  name: text().optional(),
  type: text().optional(),
  metadata: kvPairs().optional(),
  policies: strings().optional(),
  member_entity_ids: strings().optional(),
  member_group_ids: strings().optional(),
});

export const groupAliasFields = z.object({
  id: text().optional(),
  name: text().optional(),
  mount_accessor: text().optional(),
  canonical_id: text().optional(),
});

export const lookupFields = z.object({
  id: text().optional(),
  name: text().optional(),
  alias_id: text().optional(),
  alias_name: text().optional(),
  alias_mount_accessor: text().optional(),
});

export const mergeFields = z.object({
  to_entity_id: text().optional(),
  from_entity_ids: strings().optional(),
  conflicting_alias_ids_to_keep: strings().optional(),
  force: bool().optional(),
});

export const batchDeleteFields = z.object({ entity_ids: strings().optional() });

export const FIELD_HELP: Readonly<Record<string, string>> = {
  id: 'ID of the entity, alias or group.',
  name: 'Name of the entity, alias or group.',
  metadata: 'Metadata: a map of strings, or a list of "key=value".',
  policies: 'Policies tied to the entity or group (a list or comma-separated).',
  disabled: "Whether the entity is disabled: its tokens are refused (not revoked).",
  mount_accessor: 'Accessor of the auth mount the alias belongs to.',
  canonical_id: 'ID of the entity (or external group) the alias belongs to.',
  custom_metadata: 'Metadata of the alias, set through the API.',
  type: 'Group type: internal (default) or external.',
  member_entity_ids: 'Entity IDs that are members of the group (internal groups).',
  member_group_ids: 'Group IDs that are members of the group (internal groups); they inherit its policies.',
};
