import type { Storage, StorageOp } from '../../storage/types.js';
import { getJson, jsonOp } from '../../storage/view.js';
import { CofferError } from '../../util/errors.js';
import { entitySchema, groupSchema, type Alias, type Entity, type Group } from './records.js';

/** Records to write (whole) and ids to delete, applied in one storage transaction. */
export interface Changes {
  readonly entities?: readonly Entity[];
  readonly groups?: readonly Group[];
  readonly deleteEntities?: readonly string[];
  readonly deleteGroups?: readonly string[];
}

/** Names (entity, group, alias) match case-insensitively, as in Vault. */
const fold = (name: string): string => name.toLowerCase();
const factors = (accessor: string, name: string): string => `${accessor}\0${fold(name)}`;

/**
 * The identity records of one namespace, all held in memory (as Vault's memdb) with the indexes
 * lookups need, and written through to storage. Records are replaced, never changed in place:
 * callers build a new record and `apply` it, storage first, then the indexes.
 */
export class IdentityState {
  readonly #storage: Storage;
  readonly #prefix: string;
  #loaded = false;
  /** Bumped by every applied change (caches of derived data key on it). */
  generation = 0;

  readonly #entities = new Map<string, Entity>();
  readonly #entityNames = new Map<string, string>();
  /** Entity ids merged away → the entity they were merged into. */
  readonly #merged = new Map<string, string>();
  readonly #aliases = new Map<string, string>();
  readonly #aliasFactors = new Map<string, string>();
  readonly #groups = new Map<string, Group>();
  readonly #groupNames = new Map<string, string>();
  readonly #groupAliases = new Map<string, string>();
  readonly #groupAliasFactors = new Map<string, string>();
  /** entity id → ids of the groups that list it as a member. */
  readonly #memberOf = new Map<string, Set<string>>();
  /** group id → ids of the groups that list it as a member group. */
  readonly #parents = new Map<string, Set<string>>();

  constructor(storage: Storage, namespace: string) {
    this.#storage = storage;
    this.#prefix = `${namespace}/`;
  }

  async load(): Promise<void> {
    this.unload();
    for (const key of await this.#storage.list(`${this.#prefix}entity/`)) {
      this.#indexEntity(entitySchema.parse(await getJson(this.#storage, `${this.#prefix}entity/${key}`)));
    }
    for (const key of await this.#storage.list(`${this.#prefix}group/`)) {
      this.#indexGroup(groupSchema.parse(await getJson(this.#storage, `${this.#prefix}group/${key}`)));
    }
    this.#loaded = true;
    this.generation++;
  }

  unload(): void {
    this.#loaded = false;
    for (const map of [this.#entities, this.#entityNames, this.#merged, this.#aliases, this.#aliasFactors, this.#groups, this.#groupNames,
      this.#groupAliases, this.#groupAliasFactors, this.#memberOf, this.#parents]) map.clear();
    this.generation++;
  }

  assertLoaded(): void {
    if (!this.#loaded) throw new CofferError('sealed', 'Vault is sealed');
  }

  /** Persists the changes in one transaction, then updates the indexes. */
  async apply(changes: Changes): Promise<void> {
    this.assertLoaded();
    const ops: StorageOp[] = [
      ...(changes.entities ?? []).map((e) => jsonOp(`${this.#prefix}entity/${e.id}`, e)),
      ...(changes.groups ?? []).map((g) => jsonOp(`${this.#prefix}group/${g.id}`, g)),
      ...(changes.deleteEntities ?? []).map((id) => ({ kind: 'delete' as const, key: `${this.#prefix}entity/${id}` })),
      ...(changes.deleteGroups ?? []).map((id) => ({ kind: 'delete' as const, key: `${this.#prefix}group/${id}` })),
    ];
    if (ops.length === 0) return;
    await this.#storage.transaction(ops);
    for (const id of changes.deleteEntities ?? []) this.#unindexEntity(id);
    for (const id of changes.deleteGroups ?? []) this.#unindexGroup(id);
    for (const e of changes.entities ?? []) { this.#unindexEntity(e.id); this.#indexEntity(e); }
    for (const g of changes.groups ?? []) { this.#unindexGroup(g.id); this.#indexGroup(g); }
    this.generation++;
  }

  // ---- lookups -------------------------------------------------------------------------------

  /** By id, following merges (a token may still name an entity that was merged away). */
  entity(id: string): Entity | undefined {
    return this.#entities.get(id) ?? this.#entities.get(this.#merged.get(id) ?? '');
  }

  entityByName(name: string): Entity | undefined {
    return this.#entities.get(this.#entityNames.get(fold(name)) ?? '');
  }

  entities(): Entity[] {
    return [...this.#entities.values()];
  }

  entityAlias(id: string): { alias: Alias; entity: Entity } | undefined {
    const entity = this.#entities.get(this.#aliases.get(id) ?? '');
    const alias = entity?.aliases.find((a) => a.id === id);
    return entity && alias && { alias, entity };
  }

  entityAliasByFactors(accessor: string, name: string): { alias: Alias; entity: Entity } | undefined {
    const id = this.#aliasFactors.get(factors(accessor, name));
    return id === undefined ? undefined : this.entityAlias(id);
  }

  group(id: string): Group | undefined {
    return this.#groups.get(id);
  }

  groupByName(name: string): Group | undefined {
    return this.#groups.get(this.#groupNames.get(fold(name)) ?? '');
  }

  groups(): Group[] {
    return [...this.#groups.values()];
  }

  groupAlias(id: string): { alias: Alias; group: Group } | undefined {
    const group = this.#groups.get(this.#groupAliases.get(id) ?? '');
    return group?.alias && group.alias.id === id ? { alias: group.alias, group } : undefined;
  }

  groupAliasByFactors(accessor: string, name: string): { alias: Alias; group: Group } | undefined {
    const id = this.#groupAliasFactors.get(factors(accessor, name));
    return id === undefined ? undefined : this.groupAlias(id);
  }

  /** Groups that list the entity as a member. */
  directGroupsOf(entityId: string): Group[] {
    return [...this.#memberOf.get(entityId) ?? []].flatMap((id) => this.#groups.get(id) ?? []);
  }

  /** Groups that list this group as a member group. */
  parentsOf(groupId: string): Group[] {
    return [...this.#parents.get(groupId) ?? []].flatMap((id) => this.#groups.get(id) ?? []);
  }

  /** Every group above these, through member_group_ids, each once (none of `start` itself unless reached again). */
  ancestorsOf(start: readonly Group[]): Group[] {
    const seen = new Set(start.map((g) => g.id));
    const out: Group[] = [];
    const queue = [...start];
    for (let g = queue.shift(); g; g = queue.shift()) {
      for (const parent of this.parentsOf(g.id)) {
        if (seen.has(parent.id)) continue;
        seen.add(parent.id);
        out.push(parent);
        queue.push(parent);
      }
    }
    return out;
  }

  // ---- indexes -------------------------------------------------------------------------------

  #indexEntity(e: Entity): void {
    this.#entities.set(e.id, e);
    this.#entityNames.set(fold(e.name), e.id);
    for (const old of e.merged_entity_ids) this.#merged.set(old, e.id);
    for (const a of e.aliases) {
      this.#aliases.set(a.id, e.id);
      this.#aliasFactors.set(factors(a.mount_accessor, a.name), a.id);
    }
  }

  #unindexEntity(id: string): void {
    const e = this.#entities.get(id);
    if (!e) return;
    this.#entities.delete(id);
    if (this.#entityNames.get(fold(e.name)) === id) this.#entityNames.delete(fold(e.name));
    for (const old of e.merged_entity_ids) if (this.#merged.get(old) === id) this.#merged.delete(old);
    // An alias that already moved to another entity (indexed first) stays indexed there.
    for (const a of e.aliases) {
      if (this.#aliases.get(a.id) !== id) continue;
      this.#aliases.delete(a.id);
      const f = factors(a.mount_accessor, a.name);
      if (this.#aliasFactors.get(f) === a.id) this.#aliasFactors.delete(f);
    }
  }

  #indexGroup(g: Group): void {
    this.#groups.set(g.id, g);
    this.#groupNames.set(fold(g.name), g.id);
    for (const m of g.member_entity_ids) addTo(this.#memberOf, m, g.id);
    for (const m of g.member_group_ids) addTo(this.#parents, m, g.id);
    if (g.alias) {
      this.#groupAliases.set(g.alias.id, g.id);
      this.#groupAliasFactors.set(factors(g.alias.mount_accessor, g.alias.name), g.alias.id);
    }
  }

  #unindexGroup(id: string): void {
    const g = this.#groups.get(id);
    if (!g) return;
    this.#groups.delete(id);
    if (this.#groupNames.get(fold(g.name)) === id) this.#groupNames.delete(fold(g.name));
    for (const m of g.member_entity_ids) this.#memberOf.get(m)?.delete(id);
    for (const m of g.member_group_ids) this.#parents.get(m)?.delete(id);
    if (g.alias && this.#groupAliases.get(g.alias.id) === id) {
      this.#groupAliases.delete(g.alias.id);
      const f = factors(g.alias.mount_accessor, g.alias.name);
      if (this.#groupAliasFactors.get(f) === g.alias.id) this.#groupAliasFactors.delete(f);
    }
  }
}

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key);
  if (set) set.add(value);
  else map.set(key, new Set([value]));
}
