import { z } from 'zod';

export const tokenEntrySchema = z.object({
  /** Salted hash of the token: the storage id. The token itself is never stored. */
  id: z.string(),
  accessor: z.string(),
  parentId: z.string().nullable(),
  policies: z.array(z.string()),
  meta: z.record(z.string(), z.string()),
  displayName: z.string(),
  /** 0 = unlimited; otherwise uses left. */
  numUses: z.number().int(),
  /** Unix seconds. */
  creationTime: z.number(),
  /** Seconds of TTL the token was created with (0 = never expires). */
  creationTtl: z.number(),
  /** Unix ms when it expires, or null for no expiry (root). */
  expireAt: z.number().nullable(),
  explicitMaxTtl: z.number(),
  period: z.number(),
  /** The TTL cap from the mount/role at creation, re-applied on renewal (0 = system max). */
  maxTtl: z.number(),
  renewable: z.boolean(),
  path: z.string(),
  type: z.enum(['service', 'batch']),
  entityId: z.string(),
  role: z.string(),
  namespace: z.string(),
  boundCidrs: z.array(z.string()),
});
export type TokenEntry = z.infer<typeof tokenEntrySchema>;

export const TOKEN_PREFIX = { service: 'cfs.', batch: 'cfb.' } as const;
