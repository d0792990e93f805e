import type { Backend, BackendFactory } from '../../core/framework.js';
import { accessorPaths } from './accessors.js';
import type { TokenBackendDeps } from './common.js';
import { createPaths } from './create.js';
import { lookupPaths } from './lookup.js';
import { renewPaths } from './renew.js';
import { revokePaths } from './revoke.js';
import { rolePaths } from './roles.js';

export type { TokenBackendDeps } from './common.js';

/**
 * The token store's API, mounted at auth/token/ (Vault's paths and fields). Tokens live in the
 * TokenStore; roles in this mount's own storage.
 */
export function tokenBackendFactory(deps: TokenBackendDeps): BackendFactory {
  return (): Backend => ({
    type: 'token',
    paths: [
      ...createPaths(deps),
      ...lookupPaths(deps),
      ...renewPaths(deps),
      ...revokePaths(deps),
      ...accessorPaths(deps),
      ...rolePaths(),
    ],
  });
}
