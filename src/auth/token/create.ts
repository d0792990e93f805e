import * as z from 'zod';
import { bool, duration, int, strings } from '../../core/fields.js';
import { definePath, type HandlerContext, type PathSpec } from '../../core/framework.js';
import type { CoreResponse } from '../../core/request.js';
import { TOKEN_PREFIX, type TokenEntry } from '../../core/tokens/entry.js';
import { calculateTtl } from '../../core/tokens/ttl.js';
import { invalid } from '../../util/errors.js';
import { callerOf, globListMatch, hasSudo, kvPairs, nullsAbsent, sanitizePolicies, text, type TokenBackendDeps } from './common.js';
import { readRole, type TokenRole } from './roles.js';
import { authBlock } from './shapes.js';

const createFields = nullsAbsent(z.object({
  id: text().optional(),
  policies: strings().optional(),
  meta: kvPairs().optional(),
  no_parent: bool().optional(),
  no_default_policy: bool().optional(),
  renewable: bool().optional(),
  ttl: duration().optional(),
  /** Vault's old name for ttl. */
  lease: duration().optional(),
  type: text().optional(),
  explicit_max_ttl: duration().optional(),
  display_name: text().optional(),
  num_uses: int().optional(),
  period: duration().optional(),
  entity_alias: text().optional(),
}));
type CreateFields = z.output<typeof createFields>;

const fieldHelp = {
  id: 'The token itself (root or sudo only; no "." and no cfs./cfb. prefix).',
  policies: 'Policies of the new token; a subset of the caller\'s unless root/sudo.',
  meta: 'Key/value metadata, shown in lookups and the audit log.',
  no_parent: 'Make an orphan (sudo).',
  no_default_policy: 'Do not add the default policy.',
  renewable: 'Allow renewal (default true).',
  ttl: 'Initial TTL; the mount default when absent; never above the max TTL.',
  type: 'service (default) or batch.',
  explicit_max_ttl: 'A hard cap on the token\'s lifetime, renewals included.',
  display_name: 'A name for logs; Coffer prefixes it with "token-".',
  num_uses: 'How many requests the token may make (0 = unlimited).',
  period: 'Make a periodic token: each renewal resets the TTL to this (sudo or role).',
  entity_alias: 'An entity alias for the token (create/:role only).',
};

const MAX_CUSTOM_ID = 1024;

/** auth/token/create, create-orphan and create/:role. */
export function createPaths(deps: TokenBackendDeps): PathSpec[] {
  return [
    definePath({
      pattern: 'create', help: 'Creates a token, a child of the caller\'s.', fields: createFields, fieldHelp,
      operations: { update: (ctx) => createToken(deps, ctx, false, undefined) },
    }),
    definePath({
      pattern: 'create-orphan', help: 'Creates a token without a parent.', fields: createFields, fieldHelp,
      operations: { update: (ctx) => createToken(deps, ctx, true, undefined) },
    }),
    definePath({
      pattern: 'create/:role', help: 'Creates a token under the rules of a token role.', fields: createFields, fieldHelp,
      operations: {
        update: async (ctx) => {
          const name = ctx.params['role'] ?? '';
          const role = await readRole(ctx.storage, name);
          if (!role) throw invalid(`unknown role ${name}`);
          return createToken(deps, ctx, false, role);
        },
      },
    }),
  ];
}

async function createToken(deps: TokenBackendDeps, ctx: HandlerContext<CreateFields>, orphanPath: boolean, role: TokenRole | undefined): Promise<CoreResponse> {
  const caller = callerOf(ctx);
  const d = ctx.data;
  const warnings: string[] = [];
  if (caller.tokenType === 'batch') throw invalid('batch tokens cannot create more tokens');
  const parent = await deps.tokens.lookupById(caller.tokenId);
  if (!parent) throw invalid('parent token lookup failed: no parent found');
  // A child of a limited-use token would escape the limit.
  if (parent.numUses > 0) throw invalid('restricted use token cannot generate child tokens');
  const sudo = await hasSudo(deps, ctx);

  let typeText = d.type ?? '';
  if (role?.tokenType === 'default-batch' && typeText === '') typeText = 'batch';
  if (role?.tokenType === 'service' || role?.tokenType === 'batch') typeText = role.tokenType;
  let renewable = d.renewable ?? true;
  let numUses = d.num_uses ?? 0;
  let type: TokenEntry['type'];
  if (typeText === '' || typeText === 'service') {
    type = 'service';
  } else if (typeText === 'batch') {
    const bad = (d.explicit_max_ttl ?? 0) !== 0 ? 'explicit_max_ttl' : numUses !== 0 ? 'num_uses' : (d.period ?? 0) !== 0 ? 'period' : undefined;
    if (bad) throw invalid(`batch tokens cannot have "${bad}" set`);
    type = 'batch';
    renewable = false;
  } else {
    throw invalid("invalid 'token_type' value");
  }
  if (numUses < 0) throw invalid('number of uses cannot be negative');
  const explicitEntityId = await resolveEntity(deps, ctx, role, d.entity_alias);

  let path = `${ctx.mount.path}${ctx.path}`;
  if (role) {
    if (!role.renewable) renewable = false;
    // 0 means unlimited, so any role limit is tighter than none.
    if (role.tokenNumUses !== 0 && (numUses === 0 || role.tokenNumUses < numUses)) numUses = role.tokenNumUses;
    if (role.pathSuffix !== '') path = `${path}/${role.pathSuffix}`;
  }
  const displayName = d.display_name ? `token-${d.display_name}`.replace(/[^a-zA-Z0-9-]/g, '-').replace(/-$/, '') : 'token';

  let customId: string | undefined;
  if (d.id !== undefined && d.id !== '') {
    if (!sudo) throw invalid('root or sudo privileges required to specify token id');
    if (d.id.startsWith(TOKEN_PREFIX.service)) throw invalid(`custom token ID cannot have the '${TOKEN_PREFIX.service}' prefix`);
    if (d.id.startsWith(TOKEN_PREFIX.batch)) throw invalid(`custom token ID cannot have the '${TOKEN_PREFIX.batch}' prefix`);
    if (d.id.includes('.')) throw invalid("custom token ID cannot have a '.' in the value");
    if (d.id.length > MAX_CUSTOM_ID || /[\s\u0000-\u001f\u007f]/.test(d.id)) throw invalid(`custom token ID must be at most ${MAX_CUSTOM_ID} printable characters without spaces`);
    if (type === 'batch') throw invalid('batch tokens cannot have a custom ID');
    customId = d.id;
  }

  const policies = resolvePolicies(d.policies ?? [], (d.no_default_policy ?? false) || (role?.tokenNoDefaultPolicy ?? false), role, parent, sudo);
  if (policies.includes('root')) {
    // sudo is not enough: only root makes root.
    if (!parent.policies.includes('root')) throw invalid('root tokens may not be created without parent token being root');
    if (type === 'batch') throw invalid('batch tokens cannot be root tokens');
  }

  let parentId: string | null = parent.id;
  let boundCidrs: string[] = [];
  if (role) {
    if (role.orphan) parentId = null;
    if (role.tokenBoundCidrs.length > 0) boundCidrs = role.tokenBoundCidrs;
  } else if (d.no_parent) {
    if (!sudo) throw invalid('root or sudo privileges required to create orphan token');
    parentId = null;
  } else if (orphanPath) {
    parentId = null;
  }
  let entityId = explicitEntityId;
  if (entityId === '' && parentId !== null) {
    entityId = parent.entityId;
    // Roles set their own CIDRs; a plain child can never be less bound than its parent.
    if (!role) boundCidrs = [...parent.boundCidrs];
  }

  let explicitMaxTtl = d.explicit_max_ttl ?? 0;
  let period = 0;
  if ((d.period ?? 0) > 0) {
    if (!sudo) throw invalid('root or sudo privileges required to create periodic token');
    period = d.period ?? 0;
  }
  if (role && type !== 'batch') {
    if (role.tokenExplicitMaxTtl !== 0) {
      if (explicitMaxTtl !== 0) warnings.push(`Explicit max TTL specified both during creation call and in role; using the lesser value of ${Math.min(explicitMaxTtl, role.tokenExplicitMaxTtl)} seconds`);
      explicitMaxTtl = explicitMaxTtl === 0 ? role.tokenExplicitMaxTtl : Math.min(explicitMaxTtl, role.tokenExplicitMaxTtl);
    }
    if (role.tokenPeriod !== 0) {
      if (period !== 0) warnings.push(`Period specified both during creation call and in role; using the lesser value of ${Math.min(period, role.tokenPeriod)} seconds`);
      period = period === 0 ? role.tokenPeriod : Math.min(period, role.tokenPeriod);
    }
  }

  const requestedTtl = d.ttl ?? d.lease ?? 0;
  const now = Date.now();
  let ttl = 0;
  let expireAt: number | undefined;
  // Root-policy tokens without a TTL never expire; every other token gets one.
  if (period > 0 || requestedTtl > 0 || !policies.includes('root')) {
    const r = calculateTtl({
      increment: 0, ttl: requestedTtl, period, mountMaxTtl: ctx.mount.maxLeaseTtl, mountDefaultTtl: ctx.mount.defaultLeaseTtl,
      backendMaxTtl: 0, explicitMaxTtl, issueTime: now, now,
    });
    warnings.push(...r.warnings);
    ttl = r.ttl;
    expireAt = r.expireAt;
  }
  if (ttl === 0 && explicitMaxTtl > 0) {
    ttl = explicitMaxTtl;
    expireAt = now + explicitMaxTtl * 1000;
  }
  if (ttl === 0) {
    if (parent.expireAt !== null) throw invalid('expiring root tokens cannot create non-expiring root tokens');
    renewable = false;
    boundCidrs = [];
  }

  const { token, entry } = await deps.tokens.create({
    ...(customId === undefined ? {} : { token: customId }),
    ...(expireAt === undefined ? {} : { expireAt }),
    type, parentId, policies, meta: d.meta ?? {}, displayName, numUses, ttl, issueTime: now, explicitMaxTtl, period, renewable, path,
    entityId, role: role?.name ?? '', boundCidrs, namespace: ctx.request.namespace,
  });
  return { auth: authBlock(token, entry, ttl, entityId === '' ? [] : deps.identityPolicies?.(entityId)), ...(warnings.length > 0 ? { warnings } : {}) };
}

/** Vault's policy rules for a new token: role lists, else inherit, else subset unless sudo. */
function resolvePolicies(requested: string[], noDefault: boolean, role: TokenRole | undefined, parent: TokenEntry, sudo: boolean): string[] {
  let policies = requested;
  let addDefault = false;
  const roleLists = role && (role.allowedPolicies.length > 0 || role.disallowedPolicies.length > 0 || role.allowedPoliciesGlob.length > 0 || role.disallowedPoliciesGlob.length > 0);
  if (role && roleLists) {
    // A role with lists replaces the subset rule: its lists, not the caller's policies, bound the token.
    const roleDefault = !noDefault && !role.disallowedPolicies.includes('default') && !globListMatch(role.disallowedPoliciesGlob, 'default');
    let final = requested.length > 0 ? sanitizePolicies(requested, roleDefault) : [];
    if (role.allowedPolicies.length > 0 || role.allowedPoliciesGlob.length > 0) {
      const allowed = sanitizePolicies(role.allowedPolicies, roleDefault);
      const globs = sanitizePolicies(role.allowedPoliciesGlob, false);
      if (final.length === 0) final = allowed;
      else if (final.some((p) => !allowed.includes(p) && !globListMatch(globs, p))) {
        throw invalid(`token policies (${JSON.stringify(final)}) must be subset of the role's allowed policies (${JSON.stringify(allowed)}) or glob policies (${JSON.stringify(globs)})`);
      }
    } else if (final.length === 0) {
      final = sanitizePolicies(parent.policies, roleDefault);
    }
    const banned = final.find((p) => role.disallowedPolicies.includes(p) || globListMatch(role.disallowedPoliciesGlob, p));
    if (banned !== undefined) throw invalid(`token policy "${banned}" is disallowed by this role`);
    policies = final;
  } else if (requested.length === 0) {
    // Inherit the parent's set, default included only if the parent has it.
    policies = sanitizePolicies(parent.policies, false);
  } else if (!sudo) {
    const parentSet = sanitizePolicies(parent.policies, false);
    if (!sanitizePolicies(requested, false).every((p) => parentSet.includes(p))) throw invalid('child policies must be subset of parent');
    addDefault = !noDefault && parent.policies.includes('default');
  } else {
    addDefault = !noDefault;
  }
  let final = sanitizePolicies(policies, addDefault);
  if (noDefault) final = final.filter((p) => p !== 'default');
  if (final.includes('response-wrapping')) throw invalid('cannot assign policy "response-wrapping"');
  return final;
}

async function resolveEntity(deps: TokenBackendDeps, ctx: HandlerContext<CreateFields>, role: TokenRole | undefined, alias: string | undefined): Promise<string> {
  if (alias === undefined || alias === '') return '';
  if (!role) throw invalid("'entity_alias' is only allowed in combination with token role");
  if (!globListMatch(role.allowedEntityAliases, alias.toLowerCase())) throw invalid("invalid 'entity_alias' value");
  if (!deps.resolveEntityAlias) throw invalid('entity_alias needs the identity store, which this server does not have yet');
  return deps.resolveEntityAlias({ name: alias, mountAccessor: ctx.mount.accessor, mountType: ctx.mount.type });
}
