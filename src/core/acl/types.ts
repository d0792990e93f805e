import type { Operation } from '../request.js';

export type Capability = 'create' | 'read' | 'update' | 'patch' | 'delete' | 'list' | 'sudo' | 'deny';

export interface AclCheck {
  readonly allowed: boolean;
  /** The winning rule grants sudo (root-protected paths need it). */
  readonly sudo: boolean;
  readonly capabilities: readonly Capability[];
}

/**
 * What the ACL needs to know of the caller's identity: templated paths are filled from it and
 * `entity_metadata` conditions read it. Built by the identity store for each request.
 */
export interface IdentityView {
  readonly entityId: string;
  readonly entityName: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly aliases: readonly IdentityAliasView[];
  /** Every group the entity belongs to, directly or through nested groups. */
  readonly groups: readonly IdentityGroupView[];
  /** The entity's policies and those of all its groups (Vault's `identity_policies`), sorted. */
  readonly policies: readonly string[];
  /** A disabled entity's tokens are refused. */
  readonly disabled: boolean;
  /** Changes with every identity write: ACLs filled from this view are cached under it. */
  readonly cacheKey: string;
}

export interface IdentityAliasView {
  readonly id: string;
  readonly name: string;
  readonly mountAccessor: string;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface IdentityGroupView {
  readonly id: string;
  readonly name: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/** What conditions are evaluated against. Without it, no stanza that has conditions applies. */
export interface RequestContext {
  readonly clientIp: string;
  /** Unix ms. */
  readonly now: number;
  readonly identity: IdentityView | undefined;
}

export interface AclRequest {
  readonly data: Readonly<Record<string, unknown>>;
  readonly wrapTtl: number | undefined;
  /** KV v2 data paths skip parameter constraints, as in Vault. */
  readonly skipParameterChecks?: boolean;
  readonly context?: RequestContext;
}

export type ConditionName = 'source_cidrs' | 'entity_metadata' | 'time_window';

export interface ConditionOutcome {
  readonly condition: ConditionName;
  readonly holds: boolean;
  /** Why, in words, without secrets (an address, a metadata key, a local time). */
  readonly detail: string;
}

export type MatchKind = 'exact' | 'prefix' | 'segment';

/** One stanza as written, and the policy it came from. */
export interface StanzaRef {
  readonly policy: string;
  /** The path as written (a templated path before it was filled in). */
  readonly path: string;
  /** The path after templating, when it was templated. */
  readonly rendered?: string;
  readonly capabilities: readonly Capability[];
  readonly conditions: readonly ConditionOutcome[];
}

/** Why a request is allowed or refused: the rule that decided, and the stanzas behind it. */
export interface Explanation {
  readonly allowed: boolean;
  readonly sudo: boolean;
  readonly capabilities: readonly string[];
  readonly root: boolean;
  /** The winning rule as it matched (`secret/*`, `secret/+/x`, `secret/x`), if any. */
  readonly rule: string | undefined;
  readonly match: MatchKind | undefined;
  /** The stanzas merged into the winning rule: they decided. */
  readonly decidedBy: readonly StanzaRef[];
  /** Stanzas that match the path but whose conditions do not hold now: treated as absent. */
  readonly skipped: readonly (StanzaRef & { readonly rule: string; readonly match: MatchKind })[];
  readonly reason: string;
}

/** A compiled set of policies. Built once per distinct policy set (and identity, if templated) and cached. */
export interface Acl {
  readonly isRoot: boolean;
  check(path: string, operation: Operation, request: AclRequest): AclCheck;
  /** Capabilities on a path (for sys/capabilities*): 'root' for root, 'deny' when nothing applies. */
  capabilities(path: string, context?: RequestContext): string[];
  /**
   * Whether any rule at or under `prefix` grants something other than deny (Vault's
   * hasMountAccess: the UI/CLI mount preflight needs access somewhere under a mount, not on
   * the mount path itself). Until an ACL implements it, callers fall back to `capabilities`.
   */
  hasAccessUnder?(prefix: string, context?: RequestContext): boolean;
  /** Which stanza and which condition decided (for `coffer policy explain`). */
  explain?(path: string, operation: Operation, request: AclRequest): Explanation;
}

export interface Authorizer {
  /**
   * The ACL of a set of policy names. With an identity, its policies are added and templated
   * stanzas are filled in from it; without one, templated stanzas do not apply.
   */
  aclFor(policyNames: readonly string[], identity?: IdentityView): Promise<Acl>;
}

const ROOT_CAPABILITIES: readonly Capability[] = ['create', 'read', 'update', 'patch', 'delete', 'list', 'sudo'];

/** The root policy: everything, including sudo. */
export const ROOT_ACL: Acl = {
  isRoot: true,
  check: () => ({ allowed: true, sudo: true, capabilities: ROOT_CAPABILITIES }),
  capabilities: () => ['root'],
  hasAccessUnder: () => true,
  explain: () => ({
    allowed: true, sudo: true, capabilities: ['root'], root: true, rule: undefined, match: undefined, decidedBy: [], skipped: [],
    reason: 'the token has the root policy, which allows everything',
  }),
};

/** The request context handlers build for ACL questions they ask themselves. */
export function requestContext(clientIp: string, identity: IdentityView | undefined, now = Date.now()): RequestContext {
  return { clientIp, now, identity };
}
