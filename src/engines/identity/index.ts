import type { Backend, BackendFactory } from '../../core/framework.js';
import type { IdentityStore } from '../../core/identity/store.js';
import { aliasPaths } from './paths-alias.js';
import { entityPaths } from './paths-entity.js';
import { groupPaths } from './paths-group.js';
import { lookupPaths } from './paths-lookup.js';

/**
 * The identity secrets engine, mounted once at `identity/` (Vault's paths and fields). Its
 * records live in the IdentityStore (`sys/identity/` in the barrier), not in the mount's view:
 * the ACL and the auth methods read them too.
 */
export function identityBackendFactory(store: IdentityStore): BackendFactory {
  return (): Backend => ({
    type: 'identity',
    paths: [...entityPaths(store), ...aliasPaths(store), ...groupPaths(store), ...lookupPaths(store)],
  });
}
