import type { Backend, BackendFactory } from '../../core/framework.js';
import { loginPaths, type AppRoleDeps } from './login.js';
import { rolePaths } from './roles.js';
import { secretIdPaths } from './secret-ids.js';
import { AppRoleStore } from './store.js';

export type { AppRoleDeps } from './login.js';

/**
 * The AppRole auth method (Vault's paths and fields): roles, role IDs and secret IDs in the
 * mount's storage (secret IDs only as HMACs), logins through the shared LoginService.
 */
export function approleBackendFactory(deps: AppRoleDeps): BackendFactory {
  return ({ storage }): Backend => {
    const store = new AppRoleStore(storage);
    return {
      type: 'approle',
      paths: [...loginPaths(store, deps), ...rolePaths(store), ...secretIdPaths(store)],
    };
  };
}
