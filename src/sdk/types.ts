import * as z from 'zod';

// Response shapes, checked at the edge: loose (unknown extra fields pass through, as a newer server
// may add some) and lenient about fields that Vault and OpenBao do not both send.

const stringList = z.array(z.string());

export const wrapInfoSchema = z.looseObject({
  token: z.string(),
  accessor: z.string().default(''),
  ttl: z.number(),
  creation_time: z.string().default(''),
  creation_path: z.string().default(''),
  wrapped_accessor: z.string().optional(),
});

export const authSchema = z.looseObject({
  client_token: z.string(),
  accessor: z.string().default(''),
  policies: stringList.nullable().default(null),
  token_policies: stringList.nullable().default(null),
  identity_policies: stringList.nullable().optional(),
  metadata: z.record(z.string(), z.string()).nullable().default(null),
  lease_duration: z.number().default(0),
  renewable: z.boolean().default(false),
  entity_id: z.string().default(''),
  token_type: z.string().default(''),
  orphan: z.boolean().default(false),
  num_uses: z.number().optional(),
});

/** Vault's response envelope. */
export const secretSchema = z.looseObject({
  request_id: z.string().default(''),
  lease_id: z.string().default(''),
  renewable: z.boolean().default(false),
  lease_duration: z.number().default(0),
  data: z.record(z.string(), z.unknown()).nullable().default(null),
  wrap_info: wrapInfoSchema.nullable().default(null),
  warnings: stringList.nullable().default(null),
  auth: authSchema.nullable().default(null),
});

export type WrapInfo = z.infer<typeof wrapInfoSchema>;
export type SecretAuth = z.infer<typeof authSchema>;
export type Secret = z.infer<typeof secretSchema>;
/** A LIST answer: the envelope with `data.keys` (folders end in `/`). */
export type ListSecret = Secret & { data: { keys: string[] } & Record<string, unknown> };

export const initStatusSchema = z.looseObject({ initialized: z.boolean() });
export type InitStatus = z.infer<typeof initStatusSchema>;

export interface InitRequest {
  secret_shares: number;
  secret_threshold: number;
  pgp_keys?: string[];
  root_token_pgp_key?: string;
  recovery_shares?: number;
  recovery_threshold?: number;
}

export const initResponseSchema = z.looseObject({
  keys: stringList,
  keys_base64: stringList,
  root_token: z.string(),
  recovery_keys: stringList.optional(),
  recovery_keys_base64: stringList.optional(),
});
export type InitResponse = z.infer<typeof initResponseSchema>;

export const sealStatusSchema = z.looseObject({
  type: z.string(),
  initialized: z.boolean(),
  sealed: z.boolean(),
  t: z.number(),
  n: z.number(),
  progress: z.number(),
  nonce: z.string().default(''),
  version: z.string().default(''),
  build_date: z.string().optional(),
  migration: z.boolean().default(false),
  cluster_name: z.string().optional(),
  cluster_id: z.string().optional(),
  recovery_seal: z.boolean().default(false),
  storage_type: z.string().optional(),
});
export type SealStatus = z.infer<typeof sealStatusSchema>;

export interface UnsealRequest {
  key?: string;
  reset?: boolean;
  migrate?: boolean;
}

export const healthSchema = z.looseObject({
  initialized: z.boolean(),
  sealed: z.boolean(),
  standby: z.boolean(),
  performance_standby: z.boolean().optional(),
  replication_performance_mode: z.string().optional(),
  replication_dr_mode: z.string().optional(),
  server_time_utc: z.number().optional(),
  version: z.string().optional(),
  cluster_name: z.string().optional(),
  cluster_id: z.string().optional(),
});
/** The sys/health body plus the HTTP status it came with (200, 429, 472, 473, 501 or 503). */
export type HealthResponse = z.infer<typeof healthSchema> & { status: number };

/** Query parameters of sys/health (status codes to answer with, and standby handling). */
export interface HealthQuery {
  standbyok?: boolean;
  perfstandbyok?: boolean;
  activecode?: number;
  standbycode?: number;
  drsecondarycode?: number;
  performancestandbycode?: number;
  sealedcode?: number;
  uninitcode?: number;
}

export const leaderSchema = z.looseObject({
  ha_enabled: z.boolean(),
  is_self: z.boolean(),
  leader_address: z.string().default(''),
  leader_cluster_address: z.string().optional(),
  active_time: z.string().optional(),
  performance_standby: z.boolean().optional(),
});
export type LeaderResponse = z.infer<typeof leaderSchema>;

export const keyStatusSchema = z.looseObject({
  term: z.number(),
  install_time: z.string(),
  encryptions: z.number().optional(),
});
export type KeyStatus = z.infer<typeof keyStatusSchema>;

export interface RekeyInitRequest {
  secret_shares: number;
  secret_threshold: number;
  pgp_keys?: string[];
  backup?: boolean;
  require_verification?: boolean;
}

export const rekeyStatusSchema = z.looseObject({
  nonce: z.string().default(''),
  started: z.boolean(),
  t: z.number().default(0),
  n: z.number().default(0),
  progress: z.number().default(0),
  required: z.number().default(0),
  pgp_fingerprints: stringList.nullable().default(null),
  backup: z.boolean().default(false),
  verification_required: z.boolean().default(false),
});
export type RekeyStatus = z.infer<typeof rekeyStatusSchema>;

/**
 * sys/rekey/update: `complete` with the new keys on the last share; before that Vault answers with
 * the rekey status (no `complete` field), which parses here as `complete: false`.
 */
export const rekeyUpdateSchema = z.looseObject({
  complete: z.boolean().default(false),
  nonce: z.string().default(''),
  keys: stringList.optional(),
  keys_base64: stringList.optional(),
  started: z.boolean().optional(),
  t: z.number().optional(),
  n: z.number().optional(),
  progress: z.number().optional(),
  required: z.number().optional(),
  backup: z.boolean().optional(),
  verification_required: z.boolean().optional(),
  verification_nonce: z.string().optional(),
});
export type RekeyUpdateResponse = z.infer<typeof rekeyUpdateSchema>;
