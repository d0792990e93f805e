import { compactVerify, createLocalJWKSet, decodeProtectedHeader, errors, type JSONWebKeySet, type ProtectedHeaderParameters } from 'jose';
import * as z from 'zod';
import { invalid } from '../../util/errors.js';
import { allowedAlgs, configFingerprint, parsePublicKeys, type JwtConfig } from './config.js';
import { checkOutboundUrl, fetchJson } from './fetch.js';

export interface Discovery {
  readonly issuer: string;
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  readonly jwksUri: string;
  readonly tokenAuthMethods: readonly string[];
}

const discoverySchema = z.object({
  issuer: z.string(),
  jwks_uri: z.string(),
  authorization_endpoint: z.string().optional(),
  token_endpoint: z.string().optional(),
  token_endpoint_auth_methods_supported: z.array(z.string()).optional(),
});
const jwksSchema = z.object({ keys: z.array(z.record(z.string(), z.unknown())).max(100) });

type KeySet = ReturnType<typeof createLocalJWKSet>;
interface Entry {
  readonly fingerprint: string;
  discovery?: { doc: Discovery; at: number };
  jwks?: { set: KeySet; at: number };
  /** When the key set was last fetched for a key it lacked (unknown kid): at most once per REFRESH_MS. */
  lastMissRefresh: number;
}

const DISCOVERY_TTL_MS = 60 * 60_000;
const JWKS_TTL_MS = 10 * 60_000;
const MISS_REFRESH_MS = 10_000;

const stripSlash = (u: string): string => u.replace(/\/+$/, '');

/** A verified signature: the protected header and the raw payload (claims are checked by the caller). */
export interface Verified {
  readonly header: ProtectedHeaderParameters;
  readonly payload: Uint8Array;
}

/**
 * Signing keys and discovery documents per auth mount, fetched through the bounded outbound
 * client and cached; a config change (its fingerprint) starts over. One cache for the server,
 * keyed by mount UUID, so re-instantiating a mount (a tune) keeps what was fetched.
 */
export class ProviderCache {
  readonly #entries = new Map<string, Entry>();

  /** Fetches everything the config points at, now (config writes use it to fail early). */
  async check(mountUuid: string, config: JwtConfig): Promise<void> {
    const entry = this.#entry(mountUuid, config);
    entry.discovery = undefined;
    entry.jwks = undefined;
    if (config.oidcDiscoveryUrl !== '') await this.discovery(mountUuid, config);
    await this.#keySet(mountUuid, config, true);
  }

  async discovery(mountUuid: string, config: JwtConfig): Promise<Discovery> {
    const entry = this.#entry(mountUuid, config);
    if (entry.discovery && Date.now() - entry.discovery.at < DISCOVERY_TTL_MS) return entry.discovery.doc;
    if (config.oidcDiscoveryUrl === '') throw invalid('OIDC login is not configured for this mount');
    const url = `${stripSlash(config.oidcDiscoveryUrl)}/.well-known/openid-configuration`;
    const res = await fetchJson(url, 'oidc discovery', caOf(config.oidcDiscoveryCaPem));
    const parsed = discoverySchema.safeParse(res.json);
    if (res.status !== 200 || !parsed.success) throw invalid(`error checking oidc discovery URL: answered ${res.status} without a usable discovery document`);
    const d = parsed.data;
    // As go-oidc: the document must be the configured issuer's own.
    if (stripSlash(d.issuer) !== stripSlash(config.oidcDiscoveryUrl)) throw invalid(`error checking oidc discovery URL: issuer ${JSON.stringify(d.issuer)} does not match the discovery URL`);
    const doc: Discovery = {
      issuer: d.issuer,
      jwksUri: checkOutboundUrl(d.jwks_uri, 'jwks_uri').toString(),
      authorizationEndpoint: d.authorization_endpoint ? checkOutboundUrl(d.authorization_endpoint, 'authorization_endpoint').toString() : '',
      tokenEndpoint: d.token_endpoint ? checkOutboundUrl(d.token_endpoint, 'token_endpoint').toString() : '',
      tokenAuthMethods: d.token_endpoint_auth_methods_supported ?? [],
    };
    entry.discovery = { doc, at: Date.now() };
    return doc;
  }

  /**
   * Verifies the token's signature with the config's keys, allowing only its algorithms.
   * Errors are caller-facing reasons ("unsupported signing algorithm", "no key matches").
   */
  async verify(mountUuid: string, config: JwtConfig, token: string): Promise<Verified> {
    let header: ProtectedHeaderParameters;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw invalid('malformed token');
    }
    const algorithms = allowedAlgs(config);
    if (typeof header.alg !== 'string' || !algorithms.includes(header.alg)) throw invalid(`unsupported signing algorithm ${JSON.stringify(String(header.alg))}`);
    if (config.jwtValidationPubkeys.length > 0) {
      for (const key of parsePublicKeys(config.jwtValidationPubkeys)) {
        try {
          const r = await compactVerify(token, key, { algorithms });
          return { header: r.protectedHeader, payload: r.payload };
        } catch {
          // try the next key
        }
      }
      throw invalid('failed to verify id token signature');
    }
    let set = await this.#keySet(mountUuid, config, false);
    for (let attempt = 0; ; attempt++) {
      try {
        const r = await compactVerify(token, set, { algorithms });
        return { header: r.protectedHeader, payload: r.payload };
      } catch (e) {
        const entry = this.#entry(mountUuid, config);
        // A key we do not have may be a rotated one: refetch once, not more than every 10 s.
        if (e instanceof errors.JWKSNoMatchingKey && attempt === 0 && Date.now() - entry.lastMissRefresh > MISS_REFRESH_MS) {
          entry.lastMissRefresh = Date.now();
          set = await this.#keySet(mountUuid, config, true);
          continue;
        }
        if (e instanceof errors.JWKSNoMatchingKey) throw invalid('no key in the key set matches the token (unknown kid)');
        if (e instanceof errors.JWKSMultipleMatchingKeys) throw invalid('several keys match a token without kid');
        throw invalid('failed to verify id token signature');
      }
    }
  }

  async #keySet(mountUuid: string, config: JwtConfig, fresh: boolean): Promise<KeySet> {
    const entry = this.#entry(mountUuid, config);
    if (!fresh && entry.jwks && Date.now() - entry.jwks.at < JWKS_TTL_MS) return entry.jwks.set;
    const [url, caPem, what] = config.jwksUrl !== ''
      ? [config.jwksUrl, config.jwksCaPem, 'jwks_url']
      : [(await this.discovery(mountUuid, config)).jwksUri, config.oidcDiscoveryCaPem, 'jwks_uri'];
    if (url === '') throw invalid('no key source is configured');
    const res = await fetchJson(url, what, caOf(caPem));
    const parsed = jwksSchema.safeParse(res.json);
    if (res.status !== 200 || !parsed.success) throw invalid(`error checking ${what}: answered ${res.status} without a usable JWKS`);
    let set: KeySet;
    try {
      set = createLocalJWKSet(parsed.data as unknown as JSONWebKeySet);
    } catch {
      throw invalid(`error checking ${what}: the JWKS is malformed`);
    }
    entry.jwks = { set, at: Date.now() };
    return set;
  }

  #entry(mountUuid: string, config: JwtConfig): Entry {
    const fingerprint = configFingerprint(config);
    const current = this.#entries.get(mountUuid);
    if (current && current.fingerprint === fingerprint) return current;
    const fresh: Entry = { fingerprint, lastMissRefresh: 0 };
    this.#entries.set(mountUuid, fresh);
    return fresh;
  }
}

const caOf = (pem: string): { caPem?: string } => (pem === '' ? {} : { caPem: pem });
