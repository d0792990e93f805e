/**
 * The shape of a Coffer server config, its error type, and the validation that turns a decoded
 * HCL/JSON tree into a `ServerConfig`.
 *
 * Validation is pure (no file system): the TLS certificate/key files it finds are returned as
 * `fileChecks` for the loader to check, so that errors still name the key and the line.
 */
import { isIP } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import { z } from 'zod';
import { tryParseDuration } from './duration.js';

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
}

/** Vault's system default for both lease TTLs: 32 days. */
export const DEFAULT_LEASE_TTL_SECONDS = 2_764_800;
export const DEFAULT_LISTENER_ADDRESS = '127.0.0.1:8200';
export const DEFAULT_CLUSTER_NAME = 'coffer';
export const DEFAULT_POSTGRESQL_TABLE = 'vault_kv_store';
export const DEFAULT_POSTGRESQL_MAX_PARALLEL = 128;

/**
 * A config that cannot be used. The message names the file, the line (when known) and the key,
 * compiler style: `/etc/coffer/coffer.hcl:7: listener "tcp".address: port 99999 is out of range`.
 * The same parts are available as fields. Messages never contain a secret value
 * (a connection URL is never echoed).
 */
export class ConfigError extends Error {
  /** The config file (or source name) at fault, if any. */
  readonly file: string | undefined;
  /** The key at fault, e.g. `listener "tcp".address`, if any. */
  readonly key: string | undefined;
  /** 1-based line in the file, when it could be found. */
  readonly line: number | undefined;
  /** The message without the file/line/key prefix. */
  readonly problem: string;

  constructor(problem: string, where: { file?: string | undefined; key?: string | undefined; line?: number | undefined } = {}) {
    const place = where.file === undefined ? '' : where.line === undefined ? `${where.file}: ` : `${where.file}:${where.line}: `;
    const key = where.key === undefined ? '' : `${where.key}: `;
    super(`${place}${key}${problem}`);
    this.name = 'ConfigError';
    this.file = where.file;
    this.key = where.key;
    this.line = where.line;
    this.problem = problem;
  }
}

// ---------------------------------------------------------------------------------------------
// The decoded tree and where its keys were

/** Where the parser saw things. Objects are the plain objects of the decoded tree. */
export interface LineLookup {
  /** Line of `key` inside `obj` (its first occurrence). */
  lineOfKey(obj: object, key: string): number | undefined;
  /** Line where `obj` (an object or a list) starts. */
  lineOf(obj: object): number | undefined;
}

export type PlainObject = { [key: string]: unknown };

export const isPlainObject = (v: unknown): v is PlainObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

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

// ---------------------------------------------------------------------------------------------
// Value converters. Each throws BadValue with a message that is shown after the key.

class BadValue extends Error {}

/** Short, single-line description of a value for an error message. */
function describe(v: unknown): string {
  if (typeof v === 'string') {
    return v.length <= 64 && !/[\r\n]/.test(v) ? JSON.stringify(v) : 'a long string';
  }
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a block/object';
  return typeof v;
}

const TRUE_STRINGS = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const FALSE_STRINGS = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

/** Vault's `parseutil.ParseBool`: booleans, 1/0, and Go's strconv.ParseBool strings. */
function toBool(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 1 || (typeof v === 'string' && TRUE_STRINGS.has(v))) return true;
  if (v === 0 || (typeof v === 'string' && FALSE_STRINGS.has(v))) return false;
  throw new BadValue(`expected a boolean (true/false, "true"/"false" or 1/0), got ${describe(v)}`);
}

function toString(v: unknown): string {
  if (typeof v !== 'string') throw new BadValue(`expected a string, got ${describe(v)}`);
  return v;
}

function toNonEmptyString(v: unknown): string {
  const s = toString(v);
  if (s.trim() === '') throw new BadValue('must not be empty');
  return s;
}

function toDuration(v: unknown): number {
  const r = tryParseDuration(v);
  if ('problem' in r) throw new BadValue(r.problem);
  return r.seconds;
}

/** Vault passes storage options around as strings, so `"128"` is as good as `128`. */
function toPositiveInt(v: unknown): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) {
    throw new BadValue(`expected a whole number of at least 1, got ${describe(v)}`);
  }
  return n;
}

const LOG_LEVELS: ReadonlyMap<string, LogLevel> = new Map([
  ['trace', 'trace'],
  ['debug', 'debug'],
  ['info', 'info'],
  ['notice', 'info'],
  ['warn', 'warn'],
  ['warning', 'warn'],
  ['err', 'error'],
  ['error', 'error'],
]);

function toLogLevel(v: unknown): LogLevel {
  const s = toString(v);
  const level = LOG_LEVELS.get(s.trim().toLowerCase());
  if (level === undefined) {
    throw new BadValue(`unknown log level ${describe(v)} (use trace, debug, info, warn or error)`);
  }
  return level;
}

function toApiAddr(v: unknown): string | null {
  const s = toString(v);
  if (s === '') return null;
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw new BadValue(`${describe(v)} is not a URL (expected e.g. "https://coffer.example.com:8200")`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new BadValue(`${describe(v)} must be an http:// or https:// URL`);
  }
  return s;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** `host:port`, `[v6]:port` or `:port` (all IPv4 interfaces). Port 0 asks the OS for a free port. */
function toAddress(v: unknown): { host: string; port: number } {
  const s = toString(v);
  const shown = describe(v);
  let host: string;
  let portText: string;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0 || s[end + 1] !== ':') throw new BadValue(`${shown} is not a valid address (expected e.g. "[::1]:8200")`);
    host = s.slice(1, end);
    portText = s.slice(end + 2);
    if (isIP(host) !== 6) throw new BadValue(`"${host}" in ${shown} is not an IPv6 address`);
  } else {
    const colon = s.lastIndexOf(':');
    if (colon < 0) throw new BadValue(`${shown} has no port (expected host:port, e.g. "127.0.0.1:8200")`);
    host = s.slice(0, colon);
    portText = s.slice(colon + 1);
    if (host.includes(':')) throw new BadValue(`${shown} is ambiguous: put IPv6 addresses in brackets, e.g. "[::1]:8200"`);
    if (host === '') host = '0.0.0.0';
    else if (isIP(host) === 0 && !HOSTNAME.test(host)) throw new BadValue(`"${host}" in ${shown} is not a valid host name or IP address`);
  }
  if (!/^\d+$/.test(portText)) throw new BadValue(`port "${portText}" in ${shown} is not a number`);
  const port = Number(portText);
  if (port > 65535) throw new BadValue(`port ${portText} in ${shown} is out of range (0-65535)`);
  return { host, port };
}

function toTlsMinVersion(v: unknown): 'TLSv1.2' | 'TLSv1.3' {
  const s = toString(v);
  if (s === 'tls12') return 'TLSv1.2';
  if (s === 'tls13') return 'TLSv1.3';
  if (s === 'tls10' || s === 'tls11') throw new BadValue(`${describe(v)} is not allowed: TLS 1.2 is the minimum`);
  throw new BadValue(`unknown TLS version ${describe(v)} (use "tls12" or "tls13")`);
}

/** Never echoes the value: it carries a password. */
function toConnectionUrl(v: unknown): string {
  if (typeof v !== 'string') throw new BadValue(`expected a string, got ${typeof v === 'object' ? describe(v) : typeof v}`);
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new BadValue('is not a URL (expected postgres://user:password@host:5432/database)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new BadValue('must be a postgres:// or postgresql:// URL');
  }
  return v;
}

/** Table names are put into SQL, so only plain (optionally schema-qualified) identifiers. */
function toTableName(v: unknown): string {
  const s = toString(v);
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}(?:\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/.test(s)) {
    throw new BadValue(`${describe(v)} is not a valid table name (letters, digits and _, optionally schema.table)`);
  }
  return s;
}

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

// ---------------------------------------------------------------------------------------------
// Schemas, one per block. Strict: an unknown key is an error.

const topLevelSchema = z.strictObject({
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
});

/** `synchronous = "normal"` trades power-loss durability for speed; only for measurement. */
const sqliteSchema = z.strictObject({ path: field(toNonEmptyString), synchronous: field(toSynchronous) });

function toSynchronous(v: unknown): 'full' | 'normal' {
  const s = toString(v).toLowerCase();
  if (s !== 'full' && s !== 'normal') throw new BadValue(`expected "full" or "normal", got ${describe(v)}`);
  return s;
}
const inmemSchema = z.strictObject({});
const postgresqlSchema = z.strictObject({
  connection_url: field(toConnectionUrl),
  table: field(toTableName),
  ha_enabled: field(toBool),
  max_parallel: field(toPositiveInt),
});

const tcpListenerSchema = z.strictObject({
  address: field(toAddress),
  tls_disable: field(toBool),
  tls_cert_file: field(toNonEmptyString),
  tls_key_file: field(toNonEmptyString),
  tls_min_version: field(toTlsMinVersion),
});

const STORAGE_TYPES = ['sqlite', 'inmem', 'postgresql'] as const;

/** Vault settings Coffer does not have, so the error can say so instead of just "unknown". */
const VAULT_ONLY_KEYS: ReadonlySet<string> = new Set([
  // top level
  'seal', 'ha_storage', 'ha_backend', 'cluster_addr', 'telemetry', 'plugin_directory', 'plugin_file_uid',
  'plugin_file_permissions', 'disable_cache', 'cache_size', 'pid_file', 'log_format', 'log_file', 'log_rotate_bytes',
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

const unknownKeyProblem = (key: string): string =>
  VAULT_ONLY_KEYS.has(key)
    ? `unknown key (a Vault setting that Coffer does not support; remove it)`
    : key === 'backend'
      ? 'unknown key (Vault\'s old name for the storage block: write storage "<type>" { ... })'
      : 'unknown key';

// ---------------------------------------------------------------------------------------------
// Validation

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
    listeners.push({ type: 'tcp', host, port, tls });
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
    },
    fileChecks,
  };
}
