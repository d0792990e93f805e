import type { IdentityView } from '../acl/types.js';
import type { Storage } from '../../storage/types.js';
import { CofferError } from '../../util/errors.js';
import { KeyedLock } from '../../util/keyed-lock.js';
import { newAlias, sameMap } from './aliases.js';
import { blankEntity } from './entities.js';
import type { IdentityEnv, MountDirectory, Outcome } from './env.js';
import { syncExternalGroups } from './groups.js';
import type { Entity, Group } from './records.js';
import { IdentityState } from './state.js';
import type { AliasInput, EntityResolver } from './types.js';
import { buildView } from './view.js';

export interface IdentityStoreOptions {
  /** Inside the barrier: `sys/identity/`. Records live under `<namespace>/entity/` and `<namespace>/group/`. */
  readonly storage: Storage;
  readonly mounts: MountDirectory;
  readonly namespace?: string;
}

/** Views kept between identity writes; beyond this many entities the cache starts over. */
const VIEW_CACHE_SIZE = 10_000;

/**
 * The identity store: entities, aliases, groups and group aliases of one namespace, held in
 * memory and written through to the barrier. Writes run one at a time (an operation computes the
 * records to write from the current state, then they are persisted and indexed); every write
 * drops the derived caches, so a group change decides the very next request.
 *
 * It is the EntityResolver auth methods hand their logins to, and the source of the per-request
 * IdentityView the ACL uses.
 */
export class IdentityStore implements EntityResolver {
  readonly #state: IdentityState;
  readonly #env: IdentityEnv;
  readonly #lock = new KeyedLock();
  readonly #views = new Map<string, IdentityView | null>();
  #viewsGeneration = -1;

  constructor(options: IdentityStoreOptions) {
    const namespace = options.namespace ?? 'root';
    this.#state = new IdentityState(options.storage, namespace);
    this.#env = { state: this.#state, mounts: options.mounts, namespace };
  }

  load(): Promise<void> {
    return this.#lock.run('write', () => this.#state.load());
  }

  unload(): void {
    this.#state.unload();
    this.#views.clear();
  }

  /** For reads: the current state (never change it; write through `write`). */
  get env(): IdentityEnv {
    this.#state.assertLoaded();
    return this.#env;
  }

  /** Runs an operation under the write lock and applies the records it returns. */
  write<T>(op: (env: IdentityEnv) => Outcome<T>): Promise<T> {
    return this.#lock.run('write', async () => {
      this.#state.assertLoaded();
      const { result, changes } = op(this.#env);
      await this.#state.apply(changes);
      return result;
    });
  }

  /**
   * The identity behind a token's entity id, or undefined when the token has none (or its entity
   * was deleted: the token then has only its own policies, as in Vault). Cached until the next write.
   */
  viewFor(entityId: string): IdentityView | undefined {
    if (entityId === '') return undefined;
    this.#state.assertLoaded();
    if (this.#viewsGeneration !== this.#state.generation || this.#views.size >= VIEW_CACHE_SIZE) {
      this.#views.clear();
      this.#viewsGeneration = this.#state.generation;
    }
    const cached = this.#views.get(entityId);
    if (cached !== undefined) return cached ?? undefined;
    const entity = this.#state.entity(entityId);
    const view = entity ? buildView(this.#state, entity) : undefined;
    this.#views.set(entityId, view ?? null);
    return view;
  }

  /** Vault's `identity_policies` of a token: its entity's and its groups' policies. */
  identityPolicies(entityId: string): string[] {
    return [...(this.viewFor(entityId)?.policies ?? [])];
  }

  /**
   * Finds or creates the entity for a login's alias; refreshes the alias metadata and, when the
   * login carries group names, the entity's external group memberships on that mount. A disabled
   * entity cannot log in.
   */
  async resolveAlias(input: AliasInput): Promise<{ entityId: string; identityPolicies: string[] }> {
    this.#state.assertLoaded();
    const found = this.#state.entityAliasByFactors(input.mountAccessor, input.name);
    if (found && this.#upToDate(found.entity, found.alias.metadata, input)) return this.#allowed(found.entity);
    return this.#lock.run('write', async () => {
      this.#state.assertLoaded();
      const mount = this.#env.mounts.byAccessor(input.mountAccessor);
      const current = this.#state.entityAliasByFactors(input.mountAccessor, input.name);
      let entity: Entity;
      if (current) {
        entity = current.entity;
        if (!sameMap(current.alias.metadata, input.metadata)) {
          const alias = { ...current.alias, metadata: { ...input.metadata }, last_update_time: new Date().toISOString() };
          entity = { ...entity, aliases: entity.aliases.map((a) => (a.id === alias.id ? alias : a)) };
        }
      } else {
        const fresh = blankEntity(this.#env);
        const alias = newAlias(fresh.id, input.mountAccessor, mount?.type ?? input.mountType, input.name, input.metadata, {}, mount?.local ?? false);
        entity = { ...fresh, aliases: [alias] };
      }
      this.#allowed(entity);
      const groups: Group[] = input.groupNames === undefined ? [] : syncExternalGroups(this.#env, entity.id, input.mountAccessor, input.groupNames);
      const entities = entity === current?.entity ? [] : [entity];
      await this.#state.apply({ entities, groups });
      return this.#allowed(entity);
    });
  }

  #upToDate(entity: Entity, metadata: Readonly<Record<string, string>>, input: AliasInput): boolean {
    if (!sameMap(metadata, input.metadata)) return false;
    return input.groupNames === undefined || syncExternalGroups(this.#env, entity.id, input.mountAccessor, input.groupNames).length === 0;
  }

  /** The login's answer (with the policies for its `auth` block); a disabled entity is refused. */
  #allowed(entity: Entity): { entityId: string; identityPolicies: string[] } {
    if (entity.disabled) throw new CofferError('permission_denied', 'permission denied');
    return { entityId: entity.id, identityPolicies: this.identityPolicies(entity.id) };
  }
}
