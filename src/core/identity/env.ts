import { randomUUID } from 'node:crypto';
import { invalid } from '../../util/errors.js';
import type { Changes, IdentityState } from './state.js';

/** What the identity store needs to know of an auth mount (aliases are per mount accessor). */
export interface AuthMountInfo {
  /** Full path, e.g. `auth/userpass/`. */
  readonly path: string;
  readonly type: string;
  readonly local: boolean;
}

export interface MountDirectory {
  byAccessor(accessor: string): AuthMountInfo | undefined;
}

/**
 * What an identity operation works on. Operations read the state and return the records to
 * write; the store applies them under its write lock, so nothing changes in between.
 */
export interface IdentityEnv {
  readonly state: IdentityState;
  readonly mounts: MountDirectory;
  readonly namespace: string;
}

/** An operation's answer and the records it changes. */
export interface Outcome<T> {
  readonly result: T;
  readonly changes: Changes;
}

export const newId = (): string => randomUUID();

/** Vault's generated names: `entity_1a2b3c4d`, `group_1a2b3c4d`. */
export const generatedName = (kind: 'entity' | 'group', id: string): string => `${kind}_${id.slice(0, 8)}`;

/** Entity and group policies can never hold root (only a root token is root). */
export function assertNoRoot(policies: readonly string[]): void {
  if (policies.some((p) => p.toLowerCase() === 'root')) throw invalid('policies cannot contain root');
}

/** Names are read back through `.../name/:name` (one path segment) and filled into templates. */
export function checkName(name: string, what: string): string {
  // eslint-disable-next-line no-control-regex
  if (name.length > 512 || /[/\u0000-\u001f\u007f]/.test(name)) throw invalid(`invalid ${what} name ${JSON.stringify(name)}: no "/" or control characters`);
  return name;
}
