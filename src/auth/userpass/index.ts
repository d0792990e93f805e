import type { Backend, BackendFactory } from '../../core/framework.js';
import { loginPaths, type UserpassDeps } from './login.js';
import { PasswordVerifier } from './password.js';
import { userPaths } from './users.js';

export type { UserpassDeps } from './login.js';

/**
 * The userpass auth method (Vault's paths and fields): users with argon2id password hashes in
 * the mount's storage, logins through the shared LoginService, lockout through UserLockout.
 */
export function userpassBackendFactory(deps: UserpassDeps): BackendFactory {
  // One dummy hash for the whole server: it only has to cost what a real verification costs.
  const verifier = new PasswordVerifier();
  return (): Backend => ({
    type: 'userpass',
    paths: [...loginPaths(deps, verifier), ...userPaths()],
  });
}
