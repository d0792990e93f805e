import type { Operation } from '../request.js';

export type Capability = 'create' | 'read' | 'update' | 'patch' | 'delete' | 'list' | 'sudo' | 'deny';

export interface AclCheck {
  readonly allowed: boolean;
  /** The winning rule grants sudo (root-protected paths need it). */
  readonly sudo: boolean;
  readonly capabilities: readonly Capability[];
}

export interface AclRequest {
  readonly data: Readonly<Record<string, unknown>>;
  readonly wrapTtl: number | undefined;
  /** KV v2 data paths skip parameter constraints, as in Vault. */
  readonly skipParameterChecks?: boolean;
}

/** A compiled set of policies. Built once per distinct policy set and cached. */
export interface Acl {
  readonly isRoot: boolean;
  check(path: string, operation: Operation, request: AclRequest): AclCheck;
  /** Capabilities on a path (for sys/capabilities*): 'root' for root, 'deny' when nothing applies. */
  capabilities(path: string): string[];
  /**
   * Whether any rule at or under `prefix` grants something other than deny (Vault's
   * hasMountAccess: the UI/CLI mount preflight needs access somewhere under a mount, not on
   * the mount path itself). Until an ACL implements it, callers fall back to `capabilities`.
   */
  hasAccessUnder?(prefix: string): boolean;
}

export interface Authorizer {
  aclFor(policyNames: readonly string[]): Promise<Acl>;
}

/** The root policy: everything, including sudo. */
export const ROOT_ACL: Acl = {
  isRoot: true,
  check: () => ({ allowed: true, sudo: true, capabilities: ['create', 'read', 'update', 'patch', 'delete', 'list', 'sudo'] }),
  capabilities: () => ['root'],
};
