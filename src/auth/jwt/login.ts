import * as z from 'zod';
import { definePath, type HandlerContext, type PathSpec } from '../../core/framework.js';
import type { LoginService } from '../../core/login.js';
import type { CoreResponse } from '../../core/request.js';
import { invalid, isCofferError } from '../../util/errors.js';
import { loginFrom } from '../common/context.js';
import { checkAudience, checkBoundClaims, checkTimes, getClaim, groupNames, mappedMetadata, parseClaims, type Claims } from './claims.js';
import { readConfig, type JwtConfig } from './config.js';
import type { ProviderCache } from './keys.js';
import { readRole, type JwtRole } from './roles.js';

export interface JwtDeps {
  readonly login: Pick<LoginService, 'login'>;
}

/** The role named in the request, else the config's default_role. */
export async function roleFor(ctx: Pick<HandlerContext, 'storage'>, config: JwtConfig, requested: string | undefined): Promise<{ name: string; role: JwtRole }> {
  const name = (requested ?? '').trim().toLowerCase() || config.defaultRole;
  if (name === '') throw invalid('missing role');
  const role = /^\w(?:[\w.@-]*\w)?$/.test(name) ? await readRole(ctx.storage, name) : undefined;
  if (!role) throw invalid(`role ${JSON.stringify(name)} could not be found`);
  return { name, role };
}

/**
 * What a JWT login and an OIDC callback share once the token is verified: the user claim names
 * the alias, claim_mappings make its metadata, groups_claim lists its groups, bound claims must
 * hold, and the LoginService issues the token.
 */
export async function finishLogin(ctx: HandlerContext<unknown>, deps: JwtDeps, roleName: string, role: JwtRole, claims: Claims): Promise<CoreResponse> {
  // Without user_claim_json_pointer the name is a top-level claim, even if it starts with '/'.
  const user = role.userClaimJsonPointer ? getClaim(claims, role.userClaim) : Object.hasOwn(claims, role.userClaim) ? claims[role.userClaim] : undefined;
  if (user === undefined || user === null) throw invalid(`claim ${JSON.stringify(role.userClaim)} not found in token`);
  if (typeof user !== 'string' || user === '') throw invalid(`claim ${JSON.stringify(role.userClaim)} could not be converted to string`);
  const metadata = { ...mappedMetadata(role.claimMappings, claims), role: roleName };
  const groups = role.groupsClaim !== '' ? groupNames(role.groupsClaim, claims) : undefined;
  checkBoundClaims(role.boundClaimsType, role.boundClaims, claims);
  return deps.login.login(loginFrom(ctx, {
    alias: { name: user, metadata },
    ...(groups ? { groupNames: groups } : {}),
    token: role.token,
    displayName: user,
    metadata,
    role: roleName,
  }));
}

/** login {role, jwt}: how CI systems with OIDC tokens (GitLab, GitHub Actions, Kubernetes) log in. */
export function loginPaths(cache: ProviderCache, deps: JwtDeps): PathSpec[] {
  return [
    definePath({
      pattern: 'login',
      help: 'Logs in with a signed JWT against a role of type jwt; answers with a token.',
      unauthenticated: true,
      fields: z.object({ role: z.string().optional(), jwt: z.string().optional() }),
      fieldHelp: { role: 'The role to log in against (default_role when absent).', jwt: 'The signed JWT.' },
      operations: {
        update: async (ctx) => {
          const config = await readConfig(ctx.storage);
          if (!config) throw invalid('could not load configuration');
          const { name, role } = await roleFor(ctx, config, ctx.data.role);
          if (role.roleType === 'oidc') throw invalid('role with oidc role_type is not allowed');
          const jwt = ctx.data.jwt ?? '';
          if (jwt === '') throw invalid('missing token');
          if (jwt.length > 64 * 1024) throw invalid('error validating token: token too large');
          let claims: Claims;
          try {
            const verified = await cache.verify(ctx.mount.uuid, config, jwt);
            claims = parseClaims(verified.payload);
            if (config.boundIssuer !== '' && claims['iss'] !== config.boundIssuer) throw invalid('iss claim does not match the bound issuer');
            if (config.boundIssuer === '' && config.oidcDiscoveryUrl !== '') {
              // Keys from a provider's discovery only vouch for that provider's own tokens.
              const issuer = (await cache.discovery(ctx.mount.uuid, config)).issuer;
              if (claims['iss'] !== issuer) throw invalid('iss claim does not match the discovered issuer');
            }
            checkTimes(claims, role);
            if (role.boundSubject !== '' && claims['sub'] !== role.boundSubject) throw invalid('sub claim does not match bound subject');
            checkAudience(claims, role.boundAudiences, true);
          } catch (e) {
            if (isCofferError(e) && e.code === 'invalid_request') throw invalid(`error validating token: ${e.message}`);
            throw e;
          }
          return finishLogin(ctx, deps, name, role, claims);
        },
      },
    }),
  ];
}
