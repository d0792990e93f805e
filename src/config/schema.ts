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
  toUsageGaugePeriod,
} from './values.js';

// The document reader's error and tree types, long imported from here.
export { ConfigError, isPlainObject, type LineLookup, type PlainObject } from '../util/hcl/index.js';

// ---------------------------------------------------------------------------------------------
// Public types

import type { LogLevel } from '../util/logger.js';
export type { LogLevel };

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
  /** The listener's `telemetry { ... }` block, when it has one. */
  telemetry?: { unauthenticatedMetricsAccess: boolean };
  /** The listener's `inflight_requests_logging { ... }` block, when it has one. */
  inflightRequestsLogging?: { unauthenticatedInFlightRequestsAccess: boolean };
}

/** The top-level `telemetry { ... }` block (see docs/telemetry.md). */
export interface TelemetryConfig {
  /** How long Prometheus keeps a series nobody updates; 0 turns the Prometheus format off. */
  prometheusRetentionSeconds: number;
  /** Accepted as Vault does; with only the in-memory and Prometheus sinks no name carries a hostname anyway. */
  disableHostname: boolean;
  /** How often the costly gauges (the token count) are recounted; 0 (`"none"`) never counts them. */
  usageGaugePeriodSeconds: number;
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
  /** The `telemetry` block; absent, the Prometheus format is off (as in Vault). */
  telemetry?: TelemetryConfig;
}

/** Vault's system default for both lease TTLs: 32 days. */
export const DEFAULT_LEASE_TTL_SECONDS = 2_764_800;
export const DEFAULT_LISTENER_ADDRESS = '127.0.0.1:8200';
export const DEFAULT_CLUSTER_NAME = 'coffer';
export const DEFAULT_POSTGRESQL_TABLE = 'vault_kv_store';
export const DEFAULT_POSTGRESQL_MAX_PARALLEL = 128;
/** Vault's defaults inside a `telemetry` block: 24h Prometheus retention, token counts every 10 minutes. */
export const DEFAULT_PROMETHEUS_RETENTION_SECONDS = 86_400;
export const DEFAULT_USAGE_GAUGE_PERIOD_SECONDS = 600;

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
  telemetry: z.unknown().optional(),
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
  telemetry: z.unknown().optional(),
  inflight_requests_logging: z.unknown().optional(),
});

export const telemetrySchema = z.strictObject({
  prometheus_retention_time: field(toDuration),
  disable_hostname: field(toBool),
  usage_gauge_period: field(toUsageGaugePeriod),
});
export const listenerTelemetrySchema = z.strictObject({ unauthenticated_metrics_access: field(toBool) });
export const inflightLoggingSchema = z.strictObject({ unauthenticated_in_flight_requests_access: field(toBool) });

/** Vault settings Coffer does not have, so the error can say so instead of just "unknown". */
const VAULT_ONLY_KEYS: ReadonlySet<string> = new Set([
  // top level
  'seal', 'ha_storage', 'ha_backend', 'cluster_addr', 'plugin_directory', 'plugin_file_uid',
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
  'custom_response_headers', 'redact_addresses',
  'redact_cluster_name', 'redact_version', 'disable_replication_status_endpoints', 'chroot_namespace',
  'require_request_header', 'disable_request_limiter',
  // telemetry: the sinks that push elsewhere, and the knobs of metrics Coffer does not emit
  'statsite_address', 'statsd_address', 'dogstatsd_addr', 'dogstatsd_tags', 'circonus_api_token', 'circonus_api_app',
  'circonus_api_url', 'circonus_submission_interval', 'circonus_submission_url', 'circonus_check_id',
  'circonus_check_force_metric_activation', 'circonus_check_instance_id', 'circonus_check_search_tag',
  'circonus_check_display_name', 'circonus_check_tags', 'circonus_broker_id', 'circonus_broker_select_tag',
  'stackdriver_project_id', 'stackdriver_location', 'stackdriver_namespace', 'stackdriver_debug_logs',
  'enable_hostname_label', 'metrics_prefix', 'maximum_gauge_cardinality', 'lease_metrics_epsilon',
  'num_lease_metrics_buckets', 'add_lease_metrics_namespace_labels', 'filter_default', 'prefix_filter',
  'opentelemetry_disable',
  // storage "postgresql"
  'ha_table', 'upsert_function', 'skip_create_table', 'max_idle_connections', 'max_connect_retries',
]);

/** Keys Vault reads from a nested block of the listener, written directly in it. */
const NESTED_LISTENER_KEYS: ReadonlyMap<string, string> = new Map([
  ['unauthenticated_metrics_access', 'telemetry'],
  ['unauthenticated_in_flight_requests_access', 'inflight_requests_logging'],
]);

export const unknownKeyProblem = (key: string): string =>
  NESTED_LISTENER_KEYS.has(key)
    ? `unknown key here (Vault reads it inside the listener's ${NESTED_LISTENER_KEYS.get(key) ?? ''} { ... } block)`
    : VAULT_ONLY_KEYS.has(key)
    ? `unknown key (a Vault setting that Coffer does not support; remove it)`
    : key === 'backend'
      ? 'unknown key (Vault\'s old name for the storage block: write storage "<type>" { ... })'
      : 'unknown key';
