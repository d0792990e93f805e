import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import * as z from 'zod';
import { bool, strings } from '../../core/fields.js';
import { definePath, type PathSpec } from '../../core/framework.js';
import type { Storage } from '../../storage/types.js';
import { getJson, putJson } from '../../storage/view.js';
import { invalid, notFound } from '../../util/errors.js';
import { checkOutboundUrl } from './fetch.js';
import type { ProviderCache } from './keys.js';

/** Only asymmetric algorithms: a JWT login never accepts a shared-secret (HS*) or unsigned token. */
export const ASYMMETRIC_ALGS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'EdDSA'] as const;

export const configSchema = z.object({
  oidcDiscoveryUrl: z.string(),
  oidcDiscoveryCaPem: z.string(),
  oidcClientId: z.string(),
  oidcClientSecret: z.string(),
  oidcResponseMode: z.string(),
  oidcResponseTypes: z.array(z.string()),
  jwksUrl: z.string(),
  jwksCaPem: z.string(),
  defaultRole: z.string(),
  jwtValidationPubkeys: z.array(z.string()),
  jwtSupportedAlgs: z.array(z.string()),
  boundIssuer: z.string(),
  namespaceInState: z.boolean(),
});
export type JwtConfig = z.infer<typeof configSchema>;

export async function readConfig(storage: Storage): Promise<JwtConfig | undefined> {
  const raw = await getJson(storage, 'config');
  return raw === undefined ? undefined : configSchema.parse(raw);
}

/** Changes whenever the config does: caches of keys and discovery documents are keyed by it. */
export const configFingerprint = (c: JwtConfig): string => createHash('sha256').update(JSON.stringify(c)).digest('hex');

/** The algorithms a token may be signed with under this config. */
export const allowedAlgs = (c: JwtConfig): string[] => (c.jwtSupportedAlgs.length > 0 ? c.jwtSupportedAlgs : [...ASYMMETRIC_ALGS]);

/** OIDC (browser) logins need discovery plus a client; JWT logins need any one key source. */
export const isOidcFlow = (c: JwtConfig): boolean => c.oidcDiscoveryUrl !== '' && c.oidcClientId !== '';

export function parsePublicKeys(pems: readonly string[]): KeyObject[] {
  return pems.map((pem, i) => {
    if (/PRIVATE KEY/.test(pem)) throw invalid(`jwt_validation_pubkeys[${i}] is a private key: give the public key only`);
    try {
      return createPublicKey(pem);
    } catch {
      throw invalid(`error parsing public key: jwt_validation_pubkeys[${i}] is not a PEM public key or certificate`);
    }
  });
}

const configFields = z.object({
  oidc_discovery_url: z.string().optional(),
  oidc_discovery_ca_pem: z.string().optional(),
  oidc_client_id: z.string().optional(),
  oidc_client_secret: z.string().optional(),
  oidc_response_mode: z.string().optional(),
  oidc_response_types: strings().optional(),
  jwks_url: z.string().optional(),
  jwks_ca_pem: z.string().optional(),
  default_role: z.string().optional(),
  jwt_validation_pubkeys: strings().optional(),
  jwt_supported_algs: strings().optional(),
  bound_issuer: z.string().optional(),
  namespace_in_state: bool().optional(),
  skip_jwks_validation: bool().optional(),
  provider_config: z.record(z.string(), z.unknown()).optional(),
});

/** `config`: where keys come from (exactly one source), the OIDC client, the issuer to expect. */
export function configPaths(cache: ProviderCache): PathSpec[] {
  return [
    definePath({
      pattern: 'config',
      help: 'Reads or writes the method\'s configuration: where signing keys come from (OIDC discovery, a JWKS URL or PEM keys), the OIDC client and the expected issuer.',
      fields: configFields,
      fieldHelp: {
        oidc_discovery_url: 'The issuer URL (without .well-known/openid-configuration). Not with jwks_url or jwt_validation_pubkeys.',
        oidc_discovery_ca_pem: 'CA certificates (PEM) for the discovery URL and the provider\'s endpoints.',
        oidc_client_id: 'OAuth client ID at the provider (OIDC browser logins).',
        oidc_client_secret: 'OAuth client secret (never read back).',
        jwks_url: 'A JWKS URL with the signing keys. Not with the other key sources.',
        jwks_ca_pem: 'CA certificates (PEM) for the JWKS URL.',
        jwt_validation_pubkeys: 'PEM public keys that verify JWTs locally. Not with the other key sources.',
        jwt_supported_algs: 'Accepted signing algorithms (asymmetric only; default: all of RS*, PS*, ES*, EdDSA).',
        bound_issuer: 'The iss claim JWTs must carry.',
        default_role: 'Role used when a login names none.',
      },
      operations: {
        read: async (ctx) => {
          const c = await readConfig(ctx.storage);
          if (!c) throw notFound();
          return {
            data: {
              oidc_discovery_url: c.oidcDiscoveryUrl, oidc_discovery_ca_pem: c.oidcDiscoveryCaPem, oidc_client_id: c.oidcClientId,
              oidc_response_mode: c.oidcResponseMode, oidc_response_types: c.oidcResponseTypes, default_role: c.defaultRole,
              jwt_validation_pubkeys: c.jwtValidationPubkeys, jwt_supported_algs: c.jwtSupportedAlgs, jwks_url: c.jwksUrl,
              jwks_ca_pem: c.jwksCaPem, bound_issuer: c.boundIssuer, provider_config: {}, namespace_in_state: c.namespaceInState,
              status: 'valid',
            },
          };
        },
        update: async (ctx) => {
          const d = ctx.data;
          const existing = await readConfig(ctx.storage);
          const config: JwtConfig = {
            oidcDiscoveryUrl: (d.oidc_discovery_url ?? '').trim(), oidcDiscoveryCaPem: d.oidc_discovery_ca_pem ?? '',
            oidcClientId: d.oidc_client_id ?? '', oidcClientSecret: d.oidc_client_secret ?? '',
            oidcResponseMode: d.oidc_response_mode ?? '', oidcResponseTypes: d.oidc_response_types ?? [],
            jwksUrl: (d.jwks_url ?? '').trim(), jwksCaPem: d.jwks_ca_pem ?? '', defaultRole: (d.default_role ?? '').toLowerCase(),
            jwtValidationPubkeys: d.jwt_validation_pubkeys ?? [], jwtSupportedAlgs: d.jwt_supported_algs ?? [], boundIssuer: d.bound_issuer ?? '',
            namespaceInState: d.namespace_in_state ?? existing?.namespaceInState ?? true,
          };
          const warnings: string[] = [];
          const sources = [config.oidcDiscoveryUrl !== '', config.jwksUrl !== '', config.jwtValidationPubkeys.length > 0].filter(Boolean).length;
          if (sources !== 1) throw invalid("exactly one of 'jwt_validation_pubkeys', 'jwks_url' or 'oidc_discovery_url' must be set");
          if ((config.oidcClientId === '') !== (config.oidcClientSecret === '')) throw invalid("both 'oidc_client_id' and 'oidc_client_secret' must be set for OIDC");
          if (config.oidcClientId !== '' && config.oidcDiscoveryUrl === '') throw invalid("'oidc_discovery_url' must be set for OIDC");
          const badAlg = config.jwtSupportedAlgs.find((a) => !(ASYMMETRIC_ALGS as readonly string[]).includes(a));
          if (badAlg !== undefined) throw invalid(`unsupported signing algorithm ${JSON.stringify(badAlg)}: use one of ${ASYMMETRIC_ALGS.join(', ')}`);
          if (config.oidcResponseMode !== '' && config.oidcResponseMode !== 'query') throw invalid("'oidc_response_mode' must be 'query' (form_post is not supported)");
          if (config.oidcResponseTypes.some((t) => t !== 'code')) throw invalid("'oidc_response_types' must be 'code'");
          if (config.oidcDiscoveryUrl !== '') {
            const trimmed = config.oidcDiscoveryUrl.split('.well-known/openid-configuration')[0] ?? '';
            if (trimmed !== config.oidcDiscoveryUrl) {
              warnings.push(`modifying provided oidc_discovery_url to ${JSON.stringify(trimmed)}`);
              config.oidcDiscoveryUrl = trimmed;
            }
            checkOutboundUrl(config.oidcDiscoveryUrl, 'oidc_discovery_url');
          }
          if (config.jwksUrl !== '') checkOutboundUrl(config.jwksUrl, 'jwks_url');
          parsePublicKeys(config.jwtValidationPubkeys);
          if (config.oidcDiscoveryUrl !== '' || config.jwksUrl !== '') {
            // As Vault: the key source must answer now, unless the caller says it will later.
            try {
              await cache.check(ctx.mount.uuid, config);
            } catch (e) {
              if (!d.skip_jwks_validation) throw e;
              warnings.push(config.oidcDiscoveryUrl !== '' ? 'error checking oidc discovery URL' : 'error checking jwks URL');
            }
          }
          await putJson(ctx.storage, 'config', config);
          return warnings.length > 0 ? { warnings } : { noContent: true };
        },
      },
    }),
  ];
}
