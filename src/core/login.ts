import { denied, invalid } from '../util/errors.js';
import type { MountInfo } from './framework.js';
import type { EntityResolver } from './identity/types.js';
import type { AuthResult, CoreResponse } from './request.js';
import { ipAllowed } from './tokens/cidr.js';
import type { TokenStore } from './tokens/store.js';
import { calculateTtl } from './tokens/ttl.js';

/** The token settings of the role/user that logged in (auth/common's TokenParams has this shape). */
export interface LoginTokenParams {
  readonly ttl: number;
  readonly maxTtl: number;
  readonly explicitMaxTtl: number;
  readonly period: number;
  readonly numUses: number;
  readonly policies: readonly string[];
  readonly boundCidrs: readonly string[];
  readonly noDefaultPolicy: boolean;
  /** 'default': the mount's token_type decides. */
  readonly type: 'default' | 'service' | 'batch';
}

export interface LoginInput {
  readonly mount: MountInfo;
  /** The login request's full path (auth/userpass/login/alice): the token's creation path. */
  readonly path: string;
  readonly clientIp: string;
  readonly namespace: string;
  /** The entity alias: a username, an AppRole role_id, a JWT user claim. */
  readonly alias: { readonly name: string; readonly metadata: Readonly<Record<string, string>> };
  /** External group names (a JWT groups claim). */
  readonly groupNames?: readonly string[];
  readonly token: LoginTokenParams;
  /** Prefixed with the mount path, as Vault: "alice" on auth/userpass/ → "userpass-alice". */
  readonly displayName: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** The role logged in with (AppRole, JWT), kept on the token. */
  readonly role?: string;
}

export interface LoginServiceDeps {
  readonly tokens: Pick<TokenStore, 'create'>;
  /** The auth mount's stored config (token_type and the like) by its path, e.g. "auth/userpass/". */
  readonly mountConfig: (mountPath: string) => Readonly<Record<string, unknown>> | undefined;
  /** Lazy, and may answer undefined (no identity store wired yet): then entity_id is ''. */
  readonly entities: () => EntityResolver | undefined;
}

/** Policies no auth method may hand out. */
const NON_ASSIGNABLE = ['response-wrapping', 'control-group'];

/**
 * Turns a successful authentication into a token, the one way every auth method does it
 * (Vault's handleLoginRequest + LoginCreateToken): checks the login source against
 * token_bound_cidrs, resolves the entity, picks service or batch from the role and the mount's
 * token_type, applies the TTL rules (role, mount and system caps), creates an orphan token and
 * answers with Vault's `auth` block.
 */
export class LoginService {
  readonly #d: LoginServiceDeps;

  constructor(deps: LoginServiceDeps) {
    this.#d = deps;
  }

  async login(input: LoginInput): Promise<CoreResponse> {
    const t = input.token;
    // Checked after the credentials, so a refusal here says nothing about them.
    if (t.boundCidrs.length > 0 && !ipAllowed(t.boundCidrs, input.clientIp)) throw denied();

    const tokenPolicies = sanitize(t.policies, !t.noDefaultPolicy);
    if (tokenPolicies.includes('root')) throw invalid('auth methods cannot create root tokens');
    const banned = tokenPolicies.find((p) => NON_ASSIGNABLE.includes(p));
    if (banned !== undefined) throw invalid(`cannot assign policy "${banned}"`);

    const { entityId, identityPolicies } = await this.#entity(input);
    const type = this.#tokenType(input.mount.path, t.type);
    if (type === 'batch' && (t.period > 0 || t.numUses > 0)) {
      throw invalid('this login issues batch tokens, which cannot be periodic or have a use limit: change token_period/token_num_uses or token_type');
    }

    const now = Date.now();
    const ttl = calculateTtl({
      increment: 0, ttl: t.ttl, period: type === 'batch' ? 0 : t.period,
      mountMaxTtl: input.mount.maxLeaseTtl, mountDefaultTtl: input.mount.defaultLeaseTtl,
      backendMaxTtl: t.maxTtl, explicitMaxTtl: t.explicitMaxTtl, issueTime: now, now,
    });
    // The cap renewals re-apply: the role's max within the auth mount's.
    const maxTtl = t.maxTtl > 0 ? Math.min(t.maxTtl, input.mount.maxLeaseTtl) : input.mount.maxLeaseTtl;
    const { token, entry } = await this.#d.tokens.create({
      type, parentId: null, policies: tokenPolicies, meta: { ...input.metadata }, displayName: displayName(input.mount.path, input.displayName),
      ttl: ttl.ttl, issueTime: now, expireAt: ttl.expireAt, path: input.path, entityId, role: input.role ?? '',
      boundCidrs: [...t.boundCidrs], namespace: input.namespace,
      ...(type === 'service' ? { numUses: t.numUses, explicitMaxTtl: t.explicitMaxTtl, period: t.period, maxTtl, renewable: true } : {}),
    });

    const auth: AuthResult = {
      client_token: token,
      accessor: entry.accessor,
      policies: sanitize([...tokenPolicies, ...identityPolicies], false),
      token_policies: tokenPolicies,
      identity_policies: identityPolicies,
      metadata: Object.keys(entry.meta).length > 0 ? { ...entry.meta } : null,
      lease_duration: ttl.ttl,
      renewable: type === 'service',
      entity_id: entityId,
      token_type: type,
      orphan: true,
      mfa_requirement: null,
      num_uses: type === 'service' ? t.numUses : 0,
    };
    return { auth, ...(ttl.warnings.length > 0 ? { warnings: ttl.warnings } : {}) };
  }

  async #entity(input: LoginInput): Promise<{ entityId: string; identityPolicies: string[] }> {
    const resolver = this.#d.entities();
    if (!resolver) return { entityId: '', identityPolicies: [] };
    const result: { entityId: string } & { identityPolicies?: unknown } = await resolver.resolveAlias({
      mountAccessor: input.mount.accessor, mountType: input.mount.type, name: input.alias.name, metadata: input.alias.metadata,
      ...(input.groupNames ? { groupNames: input.groupNames } : {}),
    });
    // A resolver may also report the entity's and groups' policies for the answer (Vault's identity_policies).
    const extra = result.identityPolicies;
    const identityPolicies = Array.isArray(extra) ? sanitize(extra.filter((p): p is string => typeof p === 'string'), false) : [];
    return { entityId: result.entityId, identityPolicies };
  }

  /** Vault's rule: a mount tuned to service/batch forces it; default-* only fills in a role's 'default'. */
  #tokenType(mountPath: string, roleType: LoginTokenParams['type']): 'service' | 'batch' {
    const mountType = this.#d.mountConfig(mountPath)?.['token_type'];
    if (mountType === 'service' || mountType === 'batch') return mountType;
    if (roleType !== 'default') return roleType;
    return mountType === 'default-batch' ? 'batch' : 'service';
  }
}

/** Vault's SanitizePolicies: trimmed, lower-cased, deduplicated, sorted, `default` added when asked. */
function sanitize(policies: readonly string[], addDefault: boolean): string[] {
  const out = new Set(policies.map((p) => p.trim().toLowerCase()).filter((p) => p !== ''));
  if (addDefault) out.add('default');
  return [...out].sort();
}

/** "auth/userpass/" + "alice" → "userpass-alice"; "auth/approle/" + "" → "approle". */
function displayName(mountPath: string, name: string): string {
  const source = mountPath.replace(/^auth\//, '').replace(/\//g, '-');
  return `${source}${name}`.replace(/-+$/, '');
}
