/**
 * The validation that turns a decoded HCL/JSON tree into a `ServerConfig`.
 *
 * Validation is pure (no file system): the TLS certificate/key files it finds are returned as
 * `fileChecks` for the loader to check, so that errors still name the key and the line.
 */
import { resolve as resolvePath } from 'node:path';
import type * as z from 'zod';
import { ConfigError, isPlainObject, type LineLookup, type PlainObject } from '../util/hcl/index.js';
import {
  DEFAULT_CLUSTER_NAME,
  DEFAULT_LEASE_TTL_SECONDS,
  DEFAULT_LISTENER_ADDRESS,
  DEFAULT_POSTGRESQL_MAX_PARALLEL,
  DEFAULT_POSTGRESQL_TABLE,
  DEFAULT_PROMETHEUS_RETENTION_SECONDS,
  DEFAULT_USAGE_GAUGE_PERIOD_SECONDS,
  inflightLoggingSchema,
  inmemSchema,
  listenerTelemetrySchema,
  postgresqlSchema,
  sqliteSchema,
  tcpListenerSchema,
  telemetrySchema,
  topLevelSchema,
  unknownKeyProblem,
  type ListenerConfig,
  type ServerConfig,
  type StorageConfig,
  type TelemetryConfig,
  type TlsConfig,
} from './schema.js';
import { describe, toAddress } from './values.js';

/** A TLS file the loader must find readable. */
export interface FileCheck {
  readonly path: string;
  readonly key: string;
  readonly line: number | undefined;
}

export interface Validated {
  readonly config: ServerConfig;
  readonly fileChecks: readonly FileCheck[];
}

const STORAGE_TYPES = ['sqlite', 'inmem', 'postgresql'] as const;

interface Ctx {
  readonly file: string;
  readonly lines: LineLookup;
}

const joinKey = (prefix: string, key: string): string => (prefix === '' ? key : `${prefix}.${key}`);

/** Run a strict schema over one block body; report its earliest problem (by line) as a ConfigError. */
function checkBlock<S extends z.ZodType>(ctx: Ctx, schema: S, body: PlainObject, display: string): z.output<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const blockLine = ctx.lines.lineOf(body);
  const errors = result.error.issues.map((issue) => {
    const key = issue.code === 'unrecognized_keys' ? issue.keys[0] : issue.path[0];
    const name = typeof key === 'string' ? key : undefined;
    const line = (name === undefined ? undefined : ctx.lines.lineOfKey(body, name)) ?? blockLine;
    const problem = issue.code === 'unrecognized_keys' && name !== undefined ? unknownKeyProblem(name) : issue.message;
    return new ConfigError(problem, { file: ctx.file, key: name === undefined ? display || undefined : joinKey(display, name), line });
  });
  errors.sort((a, b) => (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER));
  throw errors[0] ?? new ConfigError('invalid block', { file: ctx.file, key: display || undefined, line: blockLine });
}

interface Block {
  readonly type: string;
  readonly label: string;
  readonly body: PlainObject;
  readonly line: number | undefined;
}

/**
 * The labelled blocks under `type`, in every shape Vault's HCL and JSON configs allow:
 * `listener "tcp" { ... }` (one or repeated), `{"listener": {"tcp": {...}}}`,
 * `{"listener": {"tcp": [{...}, {...}]}}` and `{"listener": [{"tcp": {...}}, ...]}`.
 */
function collectBlocks(ctx: Ctx, type: string, value: unknown, parent: PlainObject): Block[] {
  const blocks: Block[] = [];
  const notABlock = (line: number | undefined): ConfigError =>
    new ConfigError(`expected a block such as ${type} "<type>" { ... }, got ${describe(value)}`, { file: ctx.file, key: type, line });
  const fromLabelMap = (map: PlainObject): void => {
    const keys = Object.keys(map);
    if (keys.length === 0) throw notABlock(ctx.lines.lineOf(map) ?? ctx.lines.lineOfKey(parent, type));
    for (const label of keys) {
      const bodies = map[label];
      const list = Array.isArray(bodies) ? (bodies as unknown[]) : [bodies];
      for (const body of list) {
        const line = (isPlainObject(body) ? ctx.lines.lineOf(body) : undefined) ?? ctx.lines.lineOfKey(map, label);
        if (!isPlainObject(body)) {
          throw new ConfigError(`expected a block body { ... }, got ${describe(body)}`, { file: ctx.file, key: `${type} "${label}"`, line });
        }
        blocks.push({ type, label, body, line });
      }
    }
  };
  if (Array.isArray(value)) {
    for (const item of value as unknown[]) {
      if (!isPlainObject(item)) throw notABlock(ctx.lines.lineOf(value) ?? ctx.lines.lineOfKey(parent, type));
      fromLabelMap(item);
    }
  } else if (isPlainObject(value)) {
    fromLabelMap(value);
  } else {
    throw notABlock(ctx.lines.lineOfKey(parent, type));
  }
  return blocks;
}

/** An unlabelled block allowed once, such as `telemetry { ... }`; JSON may wrap it in a one-item list. */
function singleBlock(ctx: Ctx, parent: PlainObject, key: string, display: string): PlainObject | undefined {
  const value = parent[key];
  if (value === undefined) return undefined;
  const line = ctx.lines.lineOfKey(parent, key);
  const list = Array.isArray(value) ? (value as unknown[]) : [value];
  if (list.length !== 1) throw new ConfigError(`only one ${key} block is allowed, found ${list.length}`, { file: ctx.file, key: display, line });
  const [body] = list;
  if (!isPlainObject(body)) throw new ConfigError(`expected a block ${key} { ... }, got ${describe(body)}`, { file: ctx.file, key: display, line });
  return body;
}

/** The top-level `telemetry` block; Vault's defaults apply to the keys it leaves out. */
function validateTelemetry(ctx: Ctx, root: PlainObject): TelemetryConfig | undefined {
  const body = singleBlock(ctx, root, 'telemetry', 'telemetry');
  if (body === undefined) return undefined;
  const t = checkBlock(ctx, telemetrySchema, body, 'telemetry');
  return {
    prometheusRetentionSeconds: t.prometheus_retention_time ?? DEFAULT_PROMETHEUS_RETENTION_SECONDS,
    disableHostname: t.disable_hostname ?? false,
    usageGaugePeriodSeconds: t.usage_gauge_period ?? DEFAULT_USAGE_GAUGE_PERIOD_SECONDS,
  };
}

/** A listener's `telemetry` and `inflight_requests_logging` blocks, only when it has them. */
function listenerAccess(ctx: Ctx, body: PlainObject, display: string): Pick<ListenerConfig, 'telemetry' | 'inflightRequestsLogging'> {
  const telemetry = singleBlock(ctx, body, 'telemetry', `${display}.telemetry`);
  const inflight = singleBlock(ctx, body, 'inflight_requests_logging', `${display}.inflight_requests_logging`);
  const metrics = telemetry && checkBlock(ctx, listenerTelemetrySchema, telemetry, `${display}.telemetry`);
  const requests = inflight && checkBlock(ctx, inflightLoggingSchema, inflight, `${display}.inflight_requests_logging`);
  return {
    ...(metrics ? { telemetry: { unauthenticatedMetricsAccess: metrics.unauthenticated_metrics_access ?? false } } : {}),
    ...(requests ? { inflightRequestsLogging: { unauthenticatedInFlightRequestsAccess: requests.unauthenticated_in_flight_requests_access ?? false } } : {}),
  };
}

function validateStorage(ctx: Ctx, root: PlainObject): StorageConfig {
  if (root['storage'] === undefined) {
    throw new ConfigError('a storage block is required, e.g. storage "sqlite" { path = "./data/coffer.db" }', {
      file: ctx.file,
      key: 'storage',
    });
  }
  const blocks = collectBlocks(ctx, 'storage', root['storage'], root);
  const [block, second] = blocks;
  if (block === undefined) throw new ConfigError('a storage block is required', { file: ctx.file, key: 'storage' });
  if (second !== undefined) {
    throw new ConfigError(
      `only one storage block is allowed, found ${blocks.length} (${blocks.map((b) => `"${b.label}"`).join(', ')})`,
      { file: ctx.file, key: `storage "${second.label}"`, line: second.line },
    );
  }
  const display = `storage "${block.label}"`;
  const missing = (key: string): ConfigError =>
    new ConfigError('is required', { file: ctx.file, key: `${display}.${key}`, line: block.line });
  switch (block.label) {
    case 'sqlite': {
      const s = checkBlock(ctx, sqliteSchema, block.body, display);
      if (s.path === undefined) throw missing('path');
      // Like Vault, a relative path is relative to the working directory, not to the config file.
      return { type: 'sqlite', path: resolvePath(s.path), synchronous: s.synchronous ?? 'full' };
    }
    case 'inmem':
      checkBlock(ctx, inmemSchema, block.body, display);
      return { type: 'inmem' };
    case 'postgresql': {
      const s = checkBlock(ctx, postgresqlSchema, block.body, display);
      if (s.connection_url === undefined) throw missing('connection_url');
      return {
        type: 'postgresql',
        connectionUrl: s.connection_url,
        table: s.table ?? DEFAULT_POSTGRESQL_TABLE,
        haEnabled: s.ha_enabled ?? false,
        maxParallel: s.max_parallel ?? DEFAULT_POSTGRESQL_MAX_PARALLEL,
      };
    }
    default:
      throw new ConfigError(`unknown storage type "${block.label}" (Coffer supports ${STORAGE_TYPES.join(', ')})`, {
        file: ctx.file,
        key: display,
        line: block.line,
      });
  }
}

function validateListeners(ctx: Ctx, root: PlainObject, fileChecks: FileCheck[]): ListenerConfig[] {
  if (root['listener'] === undefined) {
    throw new ConfigError('at least one listener block is required, e.g. listener "tcp" { address = "127.0.0.1:8200" ... }', {
      file: ctx.file,
      key: 'listener',
    });
  }
  const blocks = collectBlocks(ctx, 'listener', root['listener'], root);
  const counts = new Map<string, number>();
  for (const b of blocks) counts.set(b.label, (counts.get(b.label) ?? 0) + 1);
  const seen = new Map<string, number>();
  const bound = new Map<string, string>();
  const listeners: ListenerConfig[] = [];
  for (const block of blocks) {
    const index = seen.get(block.label) ?? 0;
    seen.set(block.label, index + 1);
    const display = (counts.get(block.label) ?? 0) > 1 ? `listener "${block.label}"[${index}]` : `listener "${block.label}"`;
    if (block.label !== 'tcp') {
      throw new ConfigError(`unknown listener type "${block.label}" (Coffer supports tcp)`, { file: ctx.file, key: display, line: block.line });
    }
    const l = checkBlock(ctx, tcpListenerSchema, block.body, display);
    const lineOf = (key: string): number | undefined => ctx.lines.lineOfKey(block.body, key) ?? block.line;
    const { host, port } = l.address ?? toAddress(DEFAULT_LISTENER_ADDRESS);
    const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    const previous = bound.get(where);
    if (port !== 0 && previous !== undefined) {
      throw new ConfigError(`${where} is already used by ${previous}`, { file: ctx.file, key: `${display}.address`, line: lineOf('address') });
    }
    bound.set(where, display);
    let tls: TlsConfig | null = null;
    if (l.tls_disable !== true) {
      for (const key of ['tls_cert_file', 'tls_key_file'] as const) {
        if (l[key] === undefined) {
          throw new ConfigError(`is required unless tls_disable = true`, { file: ctx.file, key: `${display}.${key}`, line: block.line });
        }
      }
      // Like Vault, relative paths are relative to the working directory.
      const certFile = resolvePath(l.tls_cert_file ?? '');
      const keyFile = resolvePath(l.tls_key_file ?? '');
      fileChecks.push({ path: certFile, key: `${display}.tls_cert_file`, line: lineOf('tls_cert_file') });
      fileChecks.push({ path: keyFile, key: `${display}.tls_key_file`, line: lineOf('tls_key_file') });
      tls = { certFile, keyFile, minVersion: l.tls_min_version ?? 'TLSv1.2' };
    }
    listeners.push({ type: 'tcp', host, port, tls, ...listenerAccess(ctx, block.body, display) });
  }
  return listeners;
}

/**
 * Validate a decoded config tree (from HCL or JSON). `file` names the source in errors;
 * `lines` says where keys were, for error messages.
 */
export function validateConfig(tree: unknown, file: string, lines: LineLookup): Validated {
  const ctx: Ctx = { file, lines };
  if (!isPlainObject(tree)) {
    throw new ConfigError(`the config must be an object of settings, got ${describe(tree)}`, { file });
  }
  const top = checkBlock(ctx, topLevelSchema, tree, '');
  const storage = validateStorage(ctx, tree);
  const fileChecks: FileCheck[] = [];
  const listeners = validateListeners(ctx, tree, fileChecks);
  const telemetry = validateTelemetry(ctx, tree);

  // As in Vault, 0 (or absent) means the system default of 32 days. Unlike Vault, an explicit
  // max_lease_ttl below 32 days with no default_lease_ttl lowers the default to match instead of
  // refusing to start.
  const maxLeaseTtlSeconds = top.max_lease_ttl === undefined || top.max_lease_ttl === 0 ? DEFAULT_LEASE_TTL_SECONDS : top.max_lease_ttl;
  const defaultLeaseTtlSeconds =
    top.default_lease_ttl === undefined || top.default_lease_ttl === 0
      ? Math.min(DEFAULT_LEASE_TTL_SECONDS, maxLeaseTtlSeconds)
      : top.default_lease_ttl;
  if (defaultLeaseTtlSeconds > maxLeaseTtlSeconds) {
    throw new ConfigError(
      `${defaultLeaseTtlSeconds}s is greater than max_lease_ttl (${maxLeaseTtlSeconds}s)`,
      { file, key: 'default_lease_ttl', line: lines.lineOfKey(tree, 'default_lease_ttl') },
    );
  }

  return {
    config: {
      storage,
      listeners,
      apiAddr: top.api_addr ?? null,
      clusterName: top.cluster_name ?? DEFAULT_CLUSTER_NAME,
      ui: top.ui ?? false,
      defaultLeaseTtlSeconds,
      maxLeaseTtlSeconds,
      logLevel: top.log_level ?? 'info',
      ...(top.max_leases === undefined ? {} : { maxLeases: top.max_leases }),
      ...(top.disable_cache === true ? { cacheEntries: 0 } : top.cache_size === undefined ? {} : { cacheEntries: top.cache_size }),
      ...(telemetry ? { telemetry } : {}),
    },
    fileChecks,
  };
}
