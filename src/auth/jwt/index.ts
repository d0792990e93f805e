import type { Backend, BackendFactory } from '../../core/framework.js';
import { configPaths } from './config.js';
import { ProviderCache } from './keys.js';
import { loginPaths, type JwtDeps } from './login.js';
import { PendingLogins, oidcPaths } from './oidc.js';
import { rolePaths } from './roles.js';

export type { JwtDeps } from './login.js';

/**
 * The JWT/OIDC auth method, mounted as type `jwt` or `oidc` (one backend, two names, as Vault):
 * JWT logins verified with jose against PEM keys, a JWKS URL or OIDC discovery; the OIDC
 * authorization-code flow with PKCE. Key sets and flows in progress live in this factory, so a
 * mount's re-instantiation (a tune) keeps them.
 */
export function jwtBackendFactory(deps: JwtDeps): (type: 'jwt' | 'oidc') => BackendFactory {
  const cache = new ProviderCache();
  const pending = new PendingLogins();
  return (type) => (): Backend => ({
    type,
    paths: [...loginPaths(cache, deps), ...oidcPaths(cache, deps, pending), ...configPaths(cache), ...rolePaths()],
  });
}
