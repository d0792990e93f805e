import * as z from 'zod';
import type { DeepReadonly } from '../../storage/view.js';

export const tokenEntrySchema = z.object({
  /** Salted hash of the token: the storage id. The token itself is never stored. */
  id: z.string(),
  /** '' for batch tokens (they have none). */
  accessor: z.string(),
  parentId: z.string().nullable(),
  policies: z.array(z.string()),
  meta: z.record(z.string(), z.string()),
  displayName: z.string(),
  /** 0 = unlimited; otherwise uses left; -1 = the last use is in flight (revocation pending). */
  numUses: z.number().int(),
  /** Unix seconds. */
  creationTime: z.number(),
  /** Seconds of TTL the token was created with (0 = never expires). */
  creationTtl: z.number(),
  /** Unix ms when it expires, or null for no expiry (root). */
  expireAt: z.number().nullable(),
  explicitMaxTtl: z.number(),
  period: z.number(),
  /**
   * The TTL cap from the creating mount/role, re-applied on renewal; 0 = the token store
   * mount's max (itself never above the system max).
   */
  maxTtl: z.number(),
  renewable: z.boolean(),
  path: z.string(),
  type: z.enum(['service', 'batch']),
  entityId: z.string(),
  role: z.string(),
  namespace: z.string(),
  boundCidrs: z.array(z.string()),
  /** Unix ms the token was issued: renewals never reach past issue time + max TTL. */
  issueTime: z.number().default(0),
  /** Unix ms of the last renewal, or null. */
  lastRenewal: z.number().nullable().default(null),
});
/**
 * Immutable: the token store hands out entries shared through the barrier's decoded cache;
 * a change is a new entry written under the token's lock.
 */
export type TokenEntry = DeepReadonly<z.infer<typeof tokenEntrySchema>>;

/**
 * Prefixes that make Coffer tokens recognizable to secret scanners (`cfs.` service,
 * `cfb.` batch), as Vault's `hvs.`/`hvb.` are. Custom ids may not use them or contain '.'.
 */
export const TOKEN_PREFIX = { service: 'cfs.', batch: 'cfb.' } as const;

/** A root token (sanitized policy sets that hold `root` hold nothing else). */
export const isRootEntry = (entry: Pick<TokenEntry, 'policies'>): boolean => entry.policies.includes('root');
