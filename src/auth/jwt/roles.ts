import * as z from 'zod';
import { bool, duration, strings } from '../../core/fields.js';
import { definePath, type HandlerContext, type PathSpec } from '../../core/framework.js';
import type { CoreResponse } from '../../core/request.js';
import type { Storage } from '../../storage/types.js';
import { getJson, putJson } from '../../storage/view.js';
import { parseDurationSeconds } from '../../util/duration.js';
import { invalid, notFound } from '../../util/errors.js';
import { leafListPath, nameParam } from '../common/context.js';
import {
  DEFAULT_TOKEN_PARAMS, TOKEN_FIELD_HELP, applyTokenFields, legacyFieldShape, legacyTokenData, legacyTokenSchema, tokenFieldShape,
  tokenParamsData, tokenParamsSchema,
} from '../common/token-params.js';

export const roleSchema = z.object({
  roleType: z.enum(['jwt', 'oidc']),
  boundAudiences: z.array(z.string()),
  boundSubject: z.string(),
  boundClaimsType: z.enum(['string', 'glob']),
  boundClaims: z.record(z.string(), z.unknown()),
  claimMappings: z.record(z.string(), z.string()),
  userClaim: z.string(),
  userClaimJsonPointer: z.boolean(),
  groupsClaim: z.string(),
  oidcScopes: z.array(z.string()),
  allowedRedirectUris: z.array(z.string()),
  verboseOidcLogging: z.boolean(),
  maxAge: z.number(),
  clockSkewLeeway: z.number(),
  expirationLeeway: z.number(),
  notBeforeLeeway: z.number(),
  token: tokenParamsSchema,
  legacy: legacyTokenSchema,
});
export type JwtRole = z.infer<typeof roleSchema>;

export async function readRole(storage: Storage, name: string): Promise<JwtRole | undefined> {
  const raw = await getJson(storage, `role/${name}`);
  return raw === undefined ? undefined : roleSchema.parse(raw);
}

/** Leeways may be -1 (off): Vault's TypeSignedDurationSecond. */
const signedDuration = () => z.unknown().transform((v, ctx) => {
  if (v === -1 || v === '-1') return -1;
  const s = parseDurationSeconds(v);
  if (s === undefined) { ctx.addIssue({ code: 'custom', message: 'must be a duration, or -1' }); return z.NEVER; }
  return s;
});

/** A map whose values are strings, numbers, booleans or lists of them (bound_claims). */
const claimMap = () => z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.union([z.string(), z.number(), z.boolean()]))]));

const roleFields = z.object({
  role_type: z.string().optional(),
  bound_audiences: strings().optional(),
  bound_subject: z.string().optional(),
  bound_claims_type: z.string().optional(),
  bound_claims: claimMap().optional(),
  claim_mappings: z.record(z.string(), z.string()).optional(),
  user_claim: z.string().optional(),
  user_claim_json_pointer: bool().optional(),
  groups_claim: z.string().optional(),
  oidc_scopes: strings().optional(),
  allowed_redirect_uris: strings().optional(),
  verbose_oidc_logging: bool().optional(),
  max_age: duration().optional(),
  clock_skew_leeway: signedDuration().optional(),
  expiration_leeway: signedDuration().optional(),
  not_before_leeway: signedDuration().optional(),
  callback_mode: z.string().optional(),
  ...tokenFieldShape,
  ...legacyFieldShape,
});
type RoleFields = z.output<typeof roleFields>;

const LEGACY_KEYS = ['policies', 'ttl', 'maxTtl', 'period', 'numUses', 'boundCidrs'] as const;

function roleData(r: JwtRole): Record<string, unknown> {
  return {
    role_type: r.roleType, bound_audiences: r.boundAudiences, bound_subject: r.boundSubject, bound_claims_type: r.boundClaimsType,
    bound_claims: Object.keys(r.boundClaims).length > 0 ? r.boundClaims : null, claim_mappings: Object.keys(r.claimMappings).length > 0 ? r.claimMappings : null,
    user_claim: r.userClaim, user_claim_json_pointer: r.userClaimJsonPointer, groups_claim: r.groupsClaim, oidc_scopes: r.oidcScopes,
    allowed_redirect_uris: r.allowedRedirectUris, verbose_oidc_logging: r.verboseOidcLogging, max_age: r.maxAge, callback_mode: 'client',
    clock_skew_leeway: r.clockSkewLeeway, expiration_leeway: r.expirationLeeway, not_before_leeway: r.notBeforeLeeway,
    ...tokenParamsData(r.token), ...legacyTokenData(r.token, r.legacy, LEGACY_KEYS),
  };
}

async function writeRole(ctx: HandlerContext<RoleFields>): Promise<CoreResponse> {
  const name = nameParam(ctx, 'name', 'role name');
  const d = ctx.data;
  const role: JwtRole = (await readRole(ctx.storage, name)) ?? {
    roleType: 'oidc', boundAudiences: [], boundSubject: '', boundClaimsType: 'string', boundClaims: {}, claimMappings: {}, userClaim: '',
    userClaimJsonPointer: false, groupsClaim: '', oidcScopes: [], allowedRedirectUris: [], verboseOidcLogging: false, maxAge: 0,
    clockSkewLeeway: 0, expirationLeeway: 0, notBeforeLeeway: 0, token: DEFAULT_TOKEN_PARAMS, legacy: {},
  };
  // As Vault: an unspecified role_type means oidc, on every write.
  const roleType = d.role_type === undefined || d.role_type === '' ? 'oidc' : d.role_type;
  if (roleType !== 'jwt' && roleType !== 'oidc') throw invalid(`invalid 'role_type': ${roleType}`);
  role.roleType = roleType;
  const applied = applyTokenFields(role, d);
  role.token = applied.token;
  role.legacy = applied.legacy;
  const warnings = [...applied.warnings];
  if (role.token.period > ctx.mount.maxLeaseTtl) throw invalid(`'period' of ${role.token.period}s is greater than the backend's maximum lease TTL of ${ctx.mount.maxLeaseTtl}s`);

  if (d.expiration_leeway !== undefined) role.expirationLeeway = d.expiration_leeway;
  if (d.not_before_leeway !== undefined) role.notBeforeLeeway = d.not_before_leeway;
  if (d.clock_skew_leeway !== undefined) role.clockSkewLeeway = d.clock_skew_leeway;
  if (d.bound_audiences !== undefined) role.boundAudiences = d.bound_audiences;
  if (d.bound_subject !== undefined) role.boundSubject = d.bound_subject;
  if (d.verbose_oidc_logging !== undefined) role.verboseOidcLogging = d.verbose_oidc_logging;
  if (d.max_age !== undefined) role.maxAge = d.max_age;
  const claimsType = d.bound_claims_type === undefined || d.bound_claims_type === '' ? 'string' : d.bound_claims_type;
  if (claimsType !== 'string' && claimsType !== 'glob') throw invalid(`invalid 'bound_claims_type': ${claimsType}`);
  role.boundClaimsType = claimsType;
  if (d.bound_claims !== undefined) role.boundClaims = d.bound_claims;
  if (role.boundClaimsType === 'glob') {
    for (const v of Object.values(role.boundClaims)) {
      if ((Array.isArray(v) ? v : [v]).some((x) => typeof x !== 'string')) throw invalid('claim is not a string: glob bound claims must be strings');
    }
  }
  if (d.claim_mappings !== undefined) {
    const targets = new Set<string>();
    for (const target of Object.values(d.claim_mappings)) {
      if (target === 'role') throw invalid(`metadata key "role" is reserved and may not be a mapping destination`);
      if (targets.has(target)) throw invalid(`multiple keys are mapped to metadata key ${JSON.stringify(target)}`);
      targets.add(target);
    }
    role.claimMappings = d.claim_mappings;
  }
  if (d.user_claim !== undefined) role.userClaim = d.user_claim;
  if (role.userClaim === '') throw invalid('a user claim must be defined on the role');
  if (d.user_claim_json_pointer !== undefined) role.userClaimJsonPointer = d.user_claim_json_pointer;
  if (d.groups_claim !== undefined) role.groupsClaim = d.groups_claim;
  if (d.oidc_scopes !== undefined) role.oidcScopes = d.oidc_scopes;
  if (d.allowed_redirect_uris !== undefined) role.allowedRedirectUris = d.allowed_redirect_uris;
  if (d.callback_mode !== undefined && d.callback_mode !== '' && d.callback_mode !== 'client') throw invalid("'callback_mode' must be 'client' (direct and device modes are not supported)");

  if (role.roleType === 'oidc' && role.allowedRedirectUris.length === 0) throw invalid("'allowed_redirect_uris' must be set if 'role_type' is 'oidc' or unspecified.");
  if (role.roleType === 'jwt' && role.boundAudiences.length === 0 && role.token.boundCidrs.length === 0 && role.boundSubject === '' && Object.keys(role.boundClaims).length === 0) {
    throw invalid('must have at least one bound constraint when creating/updating a role');
  }
  if (role.token.maxTtl > ctx.mount.maxLeaseTtl) warnings.push("token max ttl is greater than the system or backend mount's maximum TTL value; issued tokens' max TTL value will be truncated");
  if (role.verboseOidcLogging) warnings.push('verbose_oidc_logging is accepted but Coffer never logs tokens or claims.');
  await putJson(ctx.storage, `role/${name}`, role);
  return warnings.length > 0 ? { warnings } : { noContent: true };
}

/** role, role/:name. */
export function rolePaths(): PathSpec[] {
  return [
    leafListPath('role', 'role/', 'Lists the roles.'),
    definePath({
      pattern: 'role/:name',
      help: 'Creates, reads, updates or deletes a role: which JWTs/ID tokens it accepts (audiences, subject, bound claims) and the tokens it issues.',
      fields: roleFields,
      exists: async (ctx) => (await readRole(ctx.storage, nameParam(ctx, 'name', 'role name'))) !== undefined,
      fieldHelp: {
        name: 'Name of the role.', role_type: 'jwt (login with a JWT) or oidc (browser flow); oidc when unspecified.',
        bound_audiences: 'The aud claim must hold one of these.', bound_subject: 'The sub claim must equal this.',
        bound_claims: 'Claim → value(s) that must match; JSON pointers ("/a/b") reach nested claims.', bound_claims_type: 'string (exact) or glob (* wildcards).',
        claim_mappings: 'Claim → metadata key, copied to the token and the entity alias.', user_claim: 'The claim naming the user (the entity alias).',
        groups_claim: 'The claim listing the user\'s groups (external group aliases).', oidc_scopes: 'Scopes asked for besides openid.',
        allowed_redirect_uris: 'Redirect URIs an OIDC login may use (loopback ones match on any port).',
        clock_skew_leeway: 'Seconds of clock skew allowed on every time claim (0: 60; -1: none).',
        expiration_leeway: 'Extra seconds allowed past exp (0: 150; -1: none).', not_before_leeway: 'Extra seconds allowed before nbf (0: 150; -1: none).',
        ...TOKEN_FIELD_HELP,
      },
      operations: {
        read: async (ctx) => {
          const role = await readRole(ctx.storage, nameParam(ctx, 'name', 'role name'));
          if (!role) throw notFound();
          return { data: roleData(role) };
        },
        create: writeRole,
        update: writeRole,
        delete: async (ctx) => {
          await ctx.storage.delete(`role/${nameParam(ctx, 'name', 'role name')}`);
          return { noContent: true };
        },
      },
    }),
  ];
}
