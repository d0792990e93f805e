import { invalid } from '../../util/errors.js';
import type { IdentityEnv } from './env.js';
import type { Entity, Group } from './records.js';

/** identity/lookup/entity|group: exactly one criterion, or alias_name with alias_mount_accessor. */
export interface LookupInput {
  readonly id?: string | undefined;
  readonly name?: string | undefined;
  readonly aliasId?: string | undefined;
  readonly aliasName?: string | undefined;
  readonly aliasMountAccessor?: string | undefined;
}

type Criterion = { id: string } | { name: string } | { aliasId: string } | { aliasName: string; accessor: string };

/** Vault's checks on the criteria, with its messages. */
function criterion(input: LookupInput): Criterion {
  const given = [input.id, input.name, input.aliasId, input.aliasName, input.aliasMountAccessor].filter((v) => v !== undefined && v !== '');
  if (given.length === 0) throw invalid('query parameter not supplied');
  const aliasPair = Boolean(input.aliasName) && Boolean(input.aliasMountAccessor);
  if (given.length > 1 && !(given.length === 2 && aliasPair)) throw invalid('query parameter conflict; please supply distinct set of query parameters');
  if (aliasPair) return { aliasName: input.aliasName!, accessor: input.aliasMountAccessor! };
  if (input.aliasName || input.aliasMountAccessor) throw invalid("both 'alias_name' and 'alias_mount_accessor' needs to be set");
  if (input.id) return { id: input.id };
  if (input.name) return { name: input.name };
  return { aliasId: input.aliasId! };
}

export function lookupEntity(env: IdentityEnv, input: LookupInput): Entity | undefined {
  const c = criterion(input);
  const { state } = env;
  if ('id' in c) return state.entity(c.id);
  if ('name' in c) return state.entityByName(c.name);
  if ('aliasId' in c) return state.entityAlias(c.aliasId)?.entity;
  return state.entityAliasByFactors(c.accessor, c.aliasName)?.entity;
}

export function lookupGroup(env: IdentityEnv, input: LookupInput): Group | undefined {
  const c = criterion(input);
  const { state } = env;
  if ('id' in c) return state.group(c.id);
  if ('name' in c) return state.groupByName(c.name);
  if ('aliasId' in c) return state.groupAlias(c.aliasId)?.group;
  return state.groupAliasByFactors(c.accessor, c.aliasName)?.group;
}
