import type { AuthResult } from '../../core/request.js';
import type { TokenEntry } from '../../core/tokens/entry.js';

/** Seconds left before `expireAt` (0 for a token that never expires), rounded as Vault does. */
export function secondsLeft(entry: Pick<TokenEntry, 'expireAt'>, now = Date.now()): number {
  return entry.expireAt === null ? 0 : Math.max(0, Math.round((entry.expireAt - now) / 1000));
}

/** Renewable as Vault reports it: only an expiring service token that allows renewal. */
export function isRenewable(entry: TokenEntry): boolean {
  return entry.type === 'service' && entry.renewable && entry.expireAt !== null;
}

/**
 * The `auth` block of a create/renew response, field for field as Vault sends it; a token with
 * an entity also shows its `identity_policies` (and `policies` then holds both).
 */
export function authBlock(clientToken: string, entry: TokenEntry, leaseDuration: number, identityPolicies: readonly string[] = []): AuthResult {
  const policies = [...entry.policies];
  return {
    client_token: clientToken,
    accessor: entry.accessor,
    policies: identityPolicies.length > 0 ? [...new Set([...policies, ...identityPolicies])].sort() : policies,
    token_policies: [...policies],
    ...(identityPolicies.length > 0 ? { identity_policies: [...identityPolicies] } : {}),
    metadata: Object.keys(entry.meta).length > 0 ? { ...entry.meta } : null,
    lease_duration: leaseDuration,
    renewable: isRenewable(entry),
    entity_id: entry.entityId,
    token_type: entry.type,
    orphan: entry.parentId === null,
    mfa_requirement: null,
    num_uses: Math.max(0, entry.numUses),
  };
}

/**
 * The `data` of lookup, lookup-self and lookup-accessor. `id` is the token itself when the
 * caller gave it (or is it), and "" when looked up by accessor.
 */
export function lookupData(entry: TokenEntry, id: string, now = Date.now()): Record<string, unknown> {
  const data: Record<string, unknown> = {
    accessor: entry.accessor,
    creation_time: entry.creationTime,
    creation_ttl: entry.creationTtl,
    display_name: entry.displayName,
    entity_id: entry.entityId,
    expire_time: entry.expireAt === null ? null : new Date(entry.expireAt).toISOString(),
    explicit_max_ttl: entry.explicitMaxTtl,
    id,
    issue_time: new Date(entry.issueTime > 0 ? entry.issueTime : entry.creationTime * 1000).toISOString(),
    meta: Object.keys(entry.meta).length > 0 ? { ...entry.meta } : null,
    num_uses: Math.max(0, entry.numUses),
    orphan: entry.parentId === null,
    path: entry.path,
    policies: [...entry.policies],
    renewable: isRenewable(entry),
    ttl: secondsLeft(entry, now),
    type: entry.type,
  };
  if (entry.role !== '') data['role'] = entry.role;
  if (entry.period > 0) data['period'] = entry.period;
  if (entry.boundCidrs.length > 0) data['bound_cidrs'] = [...entry.boundCidrs];
  if (entry.lastRenewal !== null) {
    data['last_renewal_time'] = Math.floor(entry.lastRenewal / 1000);
    data['last_renewal'] = new Date(entry.lastRenewal).toISOString();
  }
  return data;
}
