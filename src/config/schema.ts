/**
 * The shape of a Coffer server config: its public types and defaults, and the zod schema of each
 * block (./validate.ts runs them).
 */
import * as z from 'zod';
import {
  BadValue,
  toAddress,
  toApiAddr,
  toBool,
  toConnectionUrl,
  toDuration,
  toLogLevel,
  toNonEmptyString,
  toPositiveInt,
  toSynchronous,
  toTableName,
  toTlsMinVersion,
} from './values.js';

// The document reader's error and tree types, long imported from here.
export { ConfigError, isPlainObject, type LineLookup, type PlainObject } from '../util/hcl/index.js';

// ---------------------------------------------------------------------------------------------
// Public types

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

export type StorageConfig =
  | { type: 'sqlite'; path: string; synchronous: 'full' | 'normal' }
  | { type: 'inmem' }
  | { type: 'postgresql'; connectionUrl: string; table: string; haEnabled: boolean; maxParallel: number };

export interface TlsConfig {
  certFile: string;
  keyFile: string;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
}

export interface ListenerConfig {
  type: 'tcp';
  host: string;
  port: number;
  /** `null` only when the listener says `tls_disable = true`. */
  tls: TlsConfig | null;
}

export interface ServerConfig {
  storage: StorageConfig;
  listeners: ListenerConfig[];
  apiAddr: string | null;
  clusterName: string;
  ui: boolean;
  defaultLeaseTtlSeconds: number;
  maxLeaseTtlSeconds: number;
  logLevel: LogLevel;
  /** Cap on active leases (`max_leases`); unset = the server's default. */
  maxLeases?: number;
  /** Entries in the barrier's read cache of decrypted records (`cache_size`; 0 with `disable_cache`). */
  cacheEntries?: number;
}

/** Vault's system default for both lease TTLs: 32 days. */
export const DEFAULT_LEASE_TTL_SECONDS = 2_764_800;
export const DEFAULT_LISTENER_ADDRESS = '127.0.0.1:8200';
export const DEFAULT_CLUSTER_NAME = 'coffer';
export const DEFAULT_POSTGRESQL_TABLE = 'vault_kv_store';
export const DEFAULT_POSTGRESQL_MAX_PARALLEL = 128;

// ---------------------------------------------------------------------------------------------
// Schemas, one per block. Strict: an unknown key is an error.

/** A zod field that runs a converter; absent keys stay `undefined`. */
function field<T>(convert: (v: unknown) => T) {
  return z
    .unknown()
    .transform((v, ctx): T => {
      try {
        return convert(v);
      } catch (e) {
        if (e instanceof BadValue) {
          ctx.addIssue({ code: 'custom', message: e.message });
          return z.NEVER;
        }
        throw e;
      }
    })
    .optional();
}

export const topLevelSchema = z.strictObject({
  storage: z.unknown().optional(),
  listener: z.unknown().optional(),
  api_addr: field(toApiAddr),
  cluster_name: field(toNonEmptyString),
  ui: field(toBool),
  default_lease_ttl: field(toDuration),
  max_lease_ttl: field(toDuration),
  log_level: field(toLogLevel),
  max_leases: field(toPositiveInt),
  /** Accepted and ignored: many Vault configs carry it; Coffer never relies on mlock. */
  disable_mlock: field(toBool),
  /** As Vault: the read cache's size in entries, and a switch that turns it off. */
  cache_size: field(toPositiveInt),
  disable_cache: field(toBool),
});

/** `synchronous = "normal"` trades power-loss durability for speed; only for measurement. */
export const sqliteSchema = z.strictObject({ path: field(toNonEmptyString), synchronous: field(toSynchronous) });

export const inmemSchema = z.strictObject({});
export const postgresqlSchema = z.strictObject({
  connection_url: field(toConnectionUrl),
  table: field(toTableName),
  ha_enabled: field(toBool),
  max_parallel: field(toPositiveInt),
});

export const tcpListenerSchema = z.strictObject({
  address: field(toAddress),
  tls_disable: field(toBool),
  tls_cert_file: field(toNonEmptyString),
  tls_key_file: field(toNonEmptyString),
  tls_min_version: field(toTlsMinVersion),
});

/** Vault settings Coffer does not have, so the error can say so instead of just "unknown". */
const VAULT_ONLY_KEYS: ReadonlySet<string> = new Set([
  // top level
  'seal', 'ha_storage', 'ha_backend', 'cluster_addr', 'telemetry', 'plugin_directory', 'plugin_file_uid',
  'plugin_file_permissions', 'pid_file', 'log_format', 'log_file', 'log_rotate_bytes',
  'log_rotate_duration', 'log_rotate_max_files', 'raw_storage_endpoint', 'disable_clustering', 'service_registration',
  'license_path', 'entropy', 'replication', 'sentinel', 'user_lockout', 'default_max_request_duration',
  'enable_response_header_hostname', 'enable_response_header_raft_node_id', 'introspection_endpoint',
  'disable_performance_standby', 'disable_sealwrap', 'disable_printable_check', 'imprecise_lease_role_tracking',
  'detect_deadlocks', 'experiments', 'administrative_namespace_path', 'cluster_cipher_suites',
  // listener "tcp"
  'cluster_address', 'tls_client_ca_file', 'tls_require_and_verify_client_cert', 'tls_disable_client_certs',
  'tls_max_version', 'tls_cipher_suites', 'tls_prefer_server_cipher_suites', 'x_forwarded_for_authorized_addrs',
  'x_forwarded_for_hop_skips', 'x_forwarded_for_reject_not_authorized', 'x_forwarded_for_reject_not_present',
  'proxy_protocol_behavior', 'proxy_protocol_authorized_addrs', 'max_request_size', 'max_request_duration',
  'http_idle_timeout', 'http_read_header_timeout', 'http_read_timeout', 'http_write_timeout', 'profiling',
  'inflight_requests_logging', 'unauthenticated_metrics_access', 'custom_response_headers', 'redact_addresses',
  'redact_cluster_name', 'redact_version', 'disable_replication_status_endpoints', 'chroot_namespace',
  'require_request_header', 'disable_request_limiter',
  // storage "postgresql"
  'ha_table', 'upsert_function', 'skip_create_table', 'max_idle_connections', 'max_connect_retries',
]);

export const unknownKeyProblem = (key: string): string =>
  VAULT_ONLY_KEYS.has(key)
    ? `unknown key (a Vault setting that Coffer does not support; remove it)`
    : key === 'backend'
      ? 'unknown key (Vault\'s old name for the storage block: write storage "<type>" { ... })'
      : 'unknown key';
