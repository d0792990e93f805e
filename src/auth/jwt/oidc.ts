import { createHash, randomBytes } from 'node:crypto';
import * as z from 'zod';
import { definePath, type PathSpec } from '../../core/framework.js';
import { CofferError, invalid, isCofferError } from '../../util/errors.js';
import { checkAudience, checkTimes, getClaim, parseClaims } from './claims.js';
import { isOidcFlow, readConfig } from './config.js';
import { fetchJson, isLoopbackHost } from './fetch.js';
import type { ProviderCache } from './keys.js';
import { finishLogin, roleFor, type JwtDeps } from './login.js';

/** An authorization-code flow between auth_url and callback (state is the key; single use). */
interface Pending {
  readonly mountUuid: string;
  readonly roleName: string;
  readonly redirectUri: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  readonly clientNonce: string;
  readonly expiresAt: number;
}

const FLOW_TTL_MS = 10 * 60_000;
const MAX_PENDING = 10_000;

/** Flows in progress, in memory (as Vault's): a restart or 10 minutes ends them. */
export class PendingLogins {
  readonly #flows = new Map<string, Pending>();

  put(state: string, p: Pending): void {
    if (this.#flows.size >= MAX_PENDING) {
      const now = Date.now();
      for (const [k, v] of this.#flows) if (v.expiresAt <= now) this.#flows.delete(k);
      if (this.#flows.size >= MAX_PENDING) throw new CofferError('rate_limited', 'too many OIDC logins in progress; try again later');
    }
    this.#flows.set(state, p);
  }

  /** The flow for this state on this mount, removed as it is taken. */
  take(state: string, mountUuid: string): Pending | undefined {
    const p = this.#flows.get(state);
    if (!p || p.mountUuid !== mountUuid) return undefined;
    this.#flows.delete(state);
    return p.expiresAt > Date.now() ? p : undefined;
  }
}

const LOGIN_FAILED = 'Vault login failed.';
const random = (bytes: number): string => randomBytes(bytes).toString('base64url');

/** Vault's validRedirect: exact match, except that loopback URIs match on any port (RFC 8252 §7.3). */
export function validRedirect(uri: string, allowed: readonly string[]): boolean {
  let input: URL;
  try { input = new URL(uri); } catch { return false; }
  if (!isLoopbackHost(input.hostname)) return allowed.includes(uri);
  input.port = '';
  return allowed.some((a) => {
    try {
      const u = new URL(a);
      u.port = '';
      return u.href === input.href;
    } catch { return false; }
  });
}

/** oidc/auth_url and oidc/callback: the authorization-code flow with PKCE (S256) and a nonce. */
export function oidcPaths(cache: ProviderCache, deps: JwtDeps, pending: PendingLogins): PathSpec[] {
  return [
    definePath({
      pattern: 'oidc/auth_url',
      help: 'Starts an OIDC login: answers the provider URL to send the user\'s browser to ("" for a redirect_uri the role does not allow).',
      unauthenticated: true,
      fields: z.object({ role: z.string().optional(), redirect_uri: z.string().optional(), client_nonce: z.string().optional() }),
      fieldHelp: { role: 'The role (default_role when absent).', redirect_uri: 'Where the provider sends the browser back (must be allowed by the role).', client_nonce: 'A value the callback must repeat (binds the flow to its client).' },
      operations: {
        update: async (ctx) => {
          const config = await readConfig(ctx.storage);
          if (!config) throw invalid('could not load configuration');
          if (!isOidcFlow(config)) throw invalid('OIDC login is not configured for this mount');
          const { name, role } = await roleFor(ctx, config, ctx.data.role);
          if (role.roleType !== 'oidc') throw invalid('role with jwt role_type is not allowed');
          const redirectUri = ctx.data.redirect_uri ?? '';
          if (redirectUri === '') throw invalid('missing redirect_uri');
          // Vault answers an empty URL rather than saying what is allowed.
          if (!validRedirect(redirectUri, role.allowedRedirectUris)) return { data: { auth_url: '' } };
          const discovery = await cache.discovery(ctx.mount.uuid, config);
          if (discovery.authorizationEndpoint === '') throw invalid('the provider\'s discovery document has no authorization_endpoint');
          const state = `st_${random(24)}`;
          const nonce = `n_${random(24)}`;
          const codeVerifier = random(48);
          pending.put(state, {
            mountUuid: ctx.mount.uuid, roleName: name, redirectUri, nonce, codeVerifier, clientNonce: ctx.data.client_nonce ?? '', expiresAt: Date.now() + FLOW_TTL_MS,
          });
          const url = new URL(discovery.authorizationEndpoint);
          const params: Record<string, string> = {
            client_id: config.oidcClientId, redirect_uri: redirectUri, response_type: 'code',
            scope: [...new Set(['openid', ...role.oidcScopes])].join(' '), state, nonce,
            code_challenge: createHash('sha256').update(codeVerifier).digest('base64url'), code_challenge_method: 'S256',
          };
          if (role.maxAge > 0) params['max_age'] = String(role.maxAge);
          for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
          return { data: { auth_url: url.toString() } };
        },
      },
    }),
    definePath({
      pattern: 'oidc/callback',
      help: 'Completes an OIDC login: exchanges the code (with the PKCE verifier), verifies the ID token and answers with a token.',
      unauthenticated: true,
      fields: z.object({
        state: z.string().optional(), code: z.string().optional(), client_nonce: z.string().optional(), error: z.string().optional(),
        error_description: z.string().optional(), nonce: z.string().optional(), id_token: z.string().optional(),
      }),
      fieldHelp: { state: 'The state from the authorization URL.', code: 'The provider\'s authorization code.', client_nonce: 'The client_nonce given to auth_url.' },
      operations: {
        read: async (ctx) => {
          const d = ctx.data;
          const flow = pending.take(d.state ?? '', ctx.mount.uuid);
          if (!flow) throw invalid(`${LOGIN_FAILED} Expired or missing OAuth state.`);
          const config = await readConfig(ctx.storage);
          if (!config || !isOidcFlow(config)) throw invalid(`${LOGIN_FAILED} Could not load configuration`);
          const { role } = await roleFor(ctx, config, flow.roleName);
          const providerError = (d.error ?? '').trim().toLowerCase();
          if (providerError !== '') {
            const known = ['invalid_request', 'unauthorized_client', 'access_denied', 'unsupported_response_type', 'invalid_scope', 'server_error', 'temporarily_unavailable'];
            throw invalid(`${LOGIN_FAILED} ${known.includes(providerError) ? providerError : 'An unknown error occurred during OIDC authentication.'}`);
          }
          if (flow.clientNonce !== '' && d.client_nonce !== flow.clientNonce) throw invalid('invalid client_nonce');
          const code = d.code ?? '';
          if (code === '') throw invalid(`${LOGIN_FAILED} No code or id_token received.`);

          const discovery = await cache.discovery(ctx.mount.uuid, config);
          if (discovery.tokenEndpoint === '') throw invalid(`${LOGIN_FAILED} the provider's discovery document has no token_endpoint`);
          // client_secret_basic unless the provider only takes client_secret_post (RFC 6749 §2.3.1).
          const basic = discovery.tokenAuthMethods.length === 0 || discovery.tokenAuthMethods.includes('client_secret_basic');
          const form: Record<string, string> = { grant_type: 'authorization_code', code, redirect_uri: flow.redirectUri, code_verifier: flow.codeVerifier };
          if (!basic) Object.assign(form, { client_id: config.oidcClientId, client_secret: config.oidcClientSecret });
          const credentials = Buffer.from(`${encodeURIComponent(config.oidcClientId)}:${encodeURIComponent(config.oidcClientSecret)}`).toString('base64');
          const exchange = await fetchJson(discovery.tokenEndpoint, 'token_endpoint', {
            method: 'POST', form, ...(basic ? { headers: { authorization: `Basic ${credentials}` } } : {}),
            ...(config.oidcDiscoveryCaPem !== '' ? { caPem: config.oidcDiscoveryCaPem } : {}),
          });
          const body = z.object({ id_token: z.string().optional(), error: z.string().optional() }).safeParse(exchange.json);
          if (exchange.status !== 200 || !body.success || !body.data.id_token) {
            const reason = body.success && body.data.error ? body.data.error : `status ${exchange.status}`;
            throw invalid(`${LOGIN_FAILED} Error exchanging oidc code: ${JSON.stringify(reason.slice(0, 100))}.`);
          }

          let claims;
          try {
            claims = parseClaims((await cache.verify(ctx.mount.uuid, config, body.data.id_token)).payload);
            if (claims['iss'] !== discovery.issuer) throw invalid('iss claim does not match the provider');
            checkAudience(claims, [config.oidcClientId], false);
            const aud = getClaim(claims, 'aud');
            if (Array.isArray(aud) && aud.length > 1 && claims['azp'] !== undefined && claims['azp'] !== config.oidcClientId) throw invalid('azp claim is not the client ID');
            checkAudience(claims, role.boundAudiences, false);
            checkTimes(claims, role);
            if (claims['nonce'] !== flow.nonce) throw invalid('invalid ID token nonce.');
          } catch (e) {
            if (isCofferError(e) && e.code === 'invalid_request') throw invalid(`Token verification failed. ${e.message}`);
            throw e;
          }
          if (role.boundSubject !== '' && claims['sub'] !== role.boundSubject) throw invalid(`${LOGIN_FAILED} sub claim does not match bound subject`);
          return finishLogin(ctx, deps, flow.roleName, role, claims);
        },
      },
    }),
  ];
}
