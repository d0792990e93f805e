import * as z from 'zod';
import { bool, duration, int, strings } from '../../core/fields.js';
import { parseCidr } from '../../core/tokens/cidr.js';
import { invalid } from '../../util/errors.js';

/**
 * The token settings every auth method's roles/users carry (Vault's tokenutil.TokenParams):
 * one zod fragment for the `token_*` fields, one function applying them with Vault's rules, one
 * view for reads. `type` 'default' means "whatever the mount's token_type says".
 */
export const tokenParamsSchema = z.object({
  ttl: z.number(),
  maxTtl: z.number(),
  explicitMaxTtl: z.number(),
  period: z.number(),
  numUses: z.number(),
  policies: z.array(z.string()),
  boundCidrs: z.array(z.string()),
  noDefaultPolicy: z.boolean(),
  type: z.enum(['default', 'service', 'batch']),
});
export type TokenParams = z.infer<typeof tokenParamsSchema>;

/** The deprecated un-prefixed names, kept only so a read echoes what was written (as Vault). */
export const legacyTokenSchema = z.object({
  policies: z.array(z.string()).optional(),
  ttl: z.number().optional(),
  maxTtl: z.number().optional(),
  period: z.number().optional(),
  numUses: z.number().optional(),
  boundCidrs: z.array(z.string()).optional(),
});
export type LegacyTokenParams = z.infer<typeof legacyTokenSchema>;

export const DEFAULT_TOKEN_PARAMS: TokenParams = {
  ttl: 0, maxTtl: 0, explicitMaxTtl: 0, period: 0, numUses: 0, policies: [], boundCidrs: [], noDefaultPolicy: false, type: 'default',
};

/** The `token_*` request fields; spread into a path's z.object. */
export const tokenFieldShape = {
  token_ttl: duration().optional(),
  token_max_ttl: duration().optional(),
  token_explicit_max_ttl: duration().optional(),
  token_period: duration().optional(),
  token_num_uses: int().optional(),
  token_policies: strings().optional(),
  token_bound_cidrs: strings().optional(),
  token_no_default_policy: bool().optional(),
  token_type: z.string().optional(),
};

/** The deprecated names each method accepts; pick the ones a method had in Vault. */
export const legacyFieldShape = {
  policies: strings().optional(),
  ttl: duration().optional(),
  max_ttl: duration().optional(),
  period: duration().optional(),
  num_uses: int().optional(),
  bound_cidrs: strings().optional(),
};

export const TOKEN_FIELD_HELP: Record<string, string> = {
  token_ttl: 'Initial TTL of issued tokens (mount default when 0).',
  token_max_ttl: 'Maximum lifetime of issued tokens, renewals included (mount max when 0).',
  token_explicit_max_ttl: 'A hard cap on issued tokens\' lifetime that mount changes cannot raise.',
  token_period: 'Issue periodic tokens: each renewal resets the TTL to this.',
  token_num_uses: 'Maximum uses of an issued token (0 = unlimited).',
  token_policies: 'Policies of issued tokens.',
  token_bound_cidrs: 'Issued tokens work only from these CIDRs (and logins only come from them).',
  token_no_default_policy: 'Do not add the default policy to issued tokens.',
  token_type: 'service, batch or default (the mount\'s token_type decides).',
  policies: 'Deprecated: use token_policies.',
};

/** The parsed fields applyTokenFields reads (a path's data has these among its own). */
export interface TokenFieldInput {
  token_ttl?: number; token_max_ttl?: number; token_explicit_max_ttl?: number; token_period?: number; token_num_uses?: number;
  token_policies?: string[]; token_bound_cidrs?: string[]; token_no_default_policy?: boolean; token_type?: string;
  policies?: string[]; ttl?: number; max_ttl?: number; period?: number; num_uses?: number; bound_cidrs?: string[];
}

/** Policy names as Vault's ParsePolicies: trimmed, lower-cased, deduplicated, sorted. */
export function parsePolicyList(list: readonly string[]): string[] {
  return [...new Set(list.map((p) => p.trim().toLowerCase()).filter((p) => p !== ''))].sort();
}

export function parseCidrList(list: readonly string[], field: string): string[] {
  return list.map((c) => {
    const parsed = parseCidr(c);
    if (!parsed) throw invalid(`${field}: invalid CIDR or IP address ${JSON.stringify(c)}`);
    return parsed;
  });
}

/**
 * Applies the sent `token_*` fields (and deprecated ones) to the current values: Vault's
 * ParseTokenFields then UpgradeValue. The new name wins when both are sent; a deprecated name alone
 * sets both. Returns the new values and any warnings.
 */
export function applyTokenFields(current: { token: TokenParams; legacy: LegacyTokenParams }, d: TokenFieldInput): { token: TokenParams; legacy: LegacyTokenParams; warnings: string[] } {
  const token: TokenParams = { ...current.token };
  const legacy: LegacyTokenParams = { ...current.legacy };
  const warnings: string[] = [];
  if (d.token_bound_cidrs !== undefined) token.boundCidrs = parseCidrList(d.token_bound_cidrs, 'token_bound_cidrs');
  if (d.token_explicit_max_ttl !== undefined) token.explicitMaxTtl = d.token_explicit_max_ttl;
  if (d.token_max_ttl !== undefined) token.maxTtl = d.token_max_ttl;
  if (d.token_no_default_policy !== undefined) token.noDefaultPolicy = d.token_no_default_policy;
  if (d.token_period !== undefined) token.period = d.token_period;
  if (d.token_policies !== undefined) token.policies = [...new Set(d.token_policies)];
  if (d.token_type !== undefined) {
    const t = d.token_type.trim().toLowerCase();
    if (t === '' || t === 'default') token.type = 'default';
    else if (t === 'service' || t === 'batch') token.type = t;
    else if (t === 'default-service' || t === 'default-batch') {
      // Vault's AppRole does the same: on a role these have no meaning beyond their kind.
      token.type = t === 'default-service' ? 'service' : 'batch';
      warnings.push(`${t} has no useful meaning; adjusting to ${token.type}`);
    } else throw invalid(`invalid 'token_type' value ${JSON.stringify(d.token_type)}`);
  }
  if (d.token_num_uses !== undefined) {
    if (d.token_num_uses < 0) throw invalid("'token_num_uses' cannot be negative");
    token.numUses = d.token_num_uses;
  }
  if (d.token_ttl !== undefined) token.ttl = d.token_ttl;

  upgrade(d.policies, d.token_policies, (v) => { legacy.policies = v; }, () => { token.policies = parsePolicyList(d.policies ?? []); return token.policies; }, () => token.policies);
  upgrade(d.ttl, d.token_ttl, (v) => { legacy.ttl = v; }, () => (token.ttl = d.ttl ?? 0), () => token.ttl);
  upgrade(d.max_ttl, d.token_max_ttl, (v) => { legacy.maxTtl = v; }, () => (token.maxTtl = d.max_ttl ?? 0), () => token.maxTtl);
  upgrade(d.period, d.token_period, (v) => { legacy.period = v; }, () => (token.period = d.period ?? 0), () => token.period);
  upgrade(d.num_uses, d.token_num_uses, (v) => { legacy.numUses = v; }, () => {
    if ((d.num_uses ?? 0) < 0) throw invalid("'num_uses' cannot be negative");
    return (token.numUses = d.num_uses ?? 0);
  }, () => token.numUses);
  upgrade(d.bound_cidrs, d.token_bound_cidrs, (v) => { legacy.boundCidrs = v; }, () => (token.boundCidrs = parseCidrList(d.bound_cidrs ?? [], 'bound_cidrs')), () => token.boundCidrs);

  if (token.type === 'batch') {
    if (token.period !== 0) throw invalid("'token_type' cannot be 'batch' or 'default_batch' when set to generate periodic tokens");
    if (token.numUses !== 0) throw invalid("'token_type' cannot be 'batch' or 'default_batch' when set to generate tokens with limited use count");
  }
  if (token.ttl > 0 && token.maxTtl > 0 && token.ttl > token.maxTtl) throw invalid("'token_ttl' cannot be greater than 'token_max_ttl'");
  return { token, legacy, warnings };
}

/**
 * Vault's UpgradeValue for one deprecated/new pair: new name sent → the deprecated copy follows
 * it only if the deprecated name was sent too (else it is cleared); deprecated name alone → both.
 */
function upgrade<T>(oldSent: unknown, newSent: unknown, setLegacy: (v: T | undefined) => void, applyOld: () => T, current: () => T): void {
  if (newSent !== undefined) setLegacy(oldSent !== undefined ? current() : undefined);
  else if (oldSent !== undefined) setLegacy(applyOld());
}

/** Vault's PopulateTokenData: the token_* fields of a read. */
export function tokenParamsData(t: TokenParams): Record<string, unknown> {
  return {
    token_bound_cidrs: [...t.boundCidrs],
    token_explicit_max_ttl: t.explicitMaxTtl,
    token_max_ttl: t.maxTtl,
    token_no_default_policy: t.noDefaultPolicy,
    token_num_uses: t.numUses,
    token_period: t.period,
    token_policies: [...t.policies],
    token_ttl: t.ttl,
    token_type: t.type,
  };
}

/** The deprecated fields a read echoes when they were written (as Vault's backwards-compat data). */
export function legacyTokenData(t: TokenParams, legacy: LegacyTokenParams, keys: readonly (keyof LegacyTokenParams)[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const v = legacy[key];
    if (v === undefined || v === 0 || (Array.isArray(v) && v.length === 0)) continue;
    if (key === 'policies') out['policies'] = [...t.policies];
    else if (key === 'boundCidrs') out['bound_cidrs'] = [...t.boundCidrs];
    else if (key === 'maxTtl') out['max_ttl'] = v;
    else if (key === 'numUses') out['num_uses'] = v;
    else out[key] = v;
  }
  return out;
}
