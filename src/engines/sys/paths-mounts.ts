import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { bool, duration, strings } from '../../core/fields.js';
import { definePath, type PathSpec } from '../../core/framework.js';
import { lockoutConfigInput, lockoutExtras, lockoutView } from '../../core/lockout.js';
import { normalizeMountPath, type MountConfigExtras, type MountEntry, type MountTable } from '../../core/mounts.js';
import type { CoreResponse } from '../../core/request.js';
import { getJson, putJson } from '../../storage/view.js';
import { invalid, notFound } from '../../util/errors.js';
import { COFFER_VERSION } from '../../version.js';

/**
 * sys/mounts, sys/mounts/:path, sys/mounts/:path/tune, sys/remount: the secrets engine mount
 * table over HTTP, with Vault's fields and shapes. The storage work is MountTable's.
 */

/** Mounts Vault will not tune (their config is the system's). */
const UNTUNABLE = ['cubbyhole/', 'sys/', 'audit/', 'identity/'];

/** A TTL: seconds, a Go duration, or "system" (use the system's, stored as 0). */
const ttl = () => z.preprocess((v) => (v === 'system' ? 0 : v), duration());
/** For tune: '' (or absent) keeps the current value. */
const tuneTtl = () => z.preprocess((v) => (v === '' || v === null ? undefined : v === 'system' ? 0 : v), duration().optional());
/** Vault's key/value pairs: values sent as numbers or booleans arrive as strings. */
const options = () => z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).nullish();

// The Go client sends unset lists as null: null means "not given".
const tunableExtras = {
  listing_visibility: z.enum(['', 'unauth', 'hidden']).nullish(),
  audit_non_hmac_request_keys: strings().nullish(),
  audit_non_hmac_response_keys: strings().nullish(),
  passthrough_request_headers: strings().nullish(),
  allowed_response_headers: strings().nullish(),
  token_type: z.enum(['', 'default-service', 'default-batch', 'service', 'batch']).nullish(),
};
/** force_no_cache is set when mounting only (Vault's tune has no such field). */
const configExtras = { force_no_cache: bool().nullish(), ...tunableExtras };
const EXTRA_KEYS = Object.keys(configExtras) as (keyof typeof configExtras)[];

export const mountFields = z.object({
  type: z.string().nullish(),
  description: z.string().nullish(),
  config: z.object({ default_lease_ttl: ttl().nullish(), max_lease_ttl: ttl().nullish(), plugin_name: z.string().nullish(), user_lockout_config: lockoutConfigInput(), ...configExtras }).nullish(),
  options: options(),
  local: bool().nullish(),
  seal_wrap: bool().nullish(),
  external_entropy_access: bool().nullish(),
  plugin_name: z.string().nullish(),
  plugin_version: z.string().nullish(),
});
export type MountFields = z.output<typeof mountFields>;

export const tuneFields = z.object({
  default_lease_ttl: tuneTtl(),
  max_lease_ttl: tuneTtl(),
  description: z.string().nullish(),
  options: options(),
  plugin_version: z.string().nullish(),
  user_lockout_config: lockoutConfigInput(),
  ...tunableExtras,
});
type TuneFields = z.output<typeof tuneFields>;

export const MOUNT_FIELD_HELP = {
  path: 'The path to mount to (a trailing "/" is added).',
  type: 'The type of the backend, e.g. "kv".',
  description: 'User-friendly description for this mount.',
  config: 'Configuration: default_lease_ttl, max_lease_ttl, force_no_cache, listing_visibility, audit_non_hmac_*_keys, passthrough_request_headers, allowed_response_headers.',
  options: 'Backend options, e.g. {"version": "2"} for kv.',
  local: 'Mark the mount as local (not replicated).',
  seal_wrap: 'Whether to turn on seal wrapping for the mount.',
};

export const TUNE_FIELD_HELP = {
  path: 'The mount to tune.',
  default_lease_ttl: 'The default lease TTL for this mount ("system" for the system default).',
  max_lease_ttl: 'The max lease TTL for this mount ("system" for the system max).',
  description: 'User-friendly description for this mount.',
  options: 'Backend options; an empty value removes an option (except version).',
};

/** The mount entry as sys/mounts and sys/auth show it (Vault's mountInfo). */
export function mountInfo(table: MountTable, entry: MountEntry): Record<string, unknown> {
  return {
    type: entry.type,
    description: entry.description,
    accessor: entry.accessor,
    uuid: entry.uuid,
    config: { default_lease_ttl: entry.config.default_lease_ttl, max_lease_ttl: entry.config.max_lease_ttl, ...configView(table, entry) },
    options: entry.options,
    local: entry.local,
    seal_wrap: entry.seal_wrap,
    external_entropy_access: false,
    plugin_version: '',
    running_plugin_version: `v${COFFER_VERSION}+builtin.coffer`,
    running_sha256: '',
    deprecation_status: 'supported',
  };
}

/** A table's mounts keyed by path, as `GET sys/mounts` and `GET sys/auth` return them. */
export function mountTableView(table: MountTable): Record<string, unknown> {
  return Object.fromEntries(table.list().map((e) => [e.path, mountInfo(table, e)]));
}

/** Reads a mount's tune view: effective TTLs (the system's when the mount sets none). */
export function tuneView(table: MountTable, entry: MountEntry): Record<string, unknown> {
  const ttls = table.ttlsOf(entry);
  return {
    description: entry.description,
    default_lease_ttl: ttls.defaultLeaseTtl,
    max_lease_ttl: ttls.maxLeaseTtl,
    ...configView(table, entry),
    ...lockoutView(entry.config),
    ...(Object.keys(entry.options).length > 0 ? { options: entry.options } : {}),
  };
}

/** Enables a mount from sys/mounts or sys/auth fields (the caller has checked the type). */
export async function enableMount(table: MountTable, path: string, type: string, data: MountFields, options: Record<string, string> | undefined): Promise<CoreResponse> {
  const config = data.config ?? {};
  // Vault 1.13+ user lockout settings: auth mounts only, stored flat in the mount's config.
  const extras = { ...pickExtras(config, table), ...(table.routePrefix === 'auth/' ? lockoutExtras(config.user_lockout_config) : {}) };
  await table.mount({
    path, type,
    ...(data.description == null ? {} : { description: data.description }),
    config: {
      ...(config.default_lease_ttl == null ? {} : { default_lease_ttl: config.default_lease_ttl }),
      ...(config.max_lease_ttl == null ? {} : { max_lease_ttl: config.max_lease_ttl }),
      extras,
    },
    ...(options === undefined ? {} : { options }),
    ...(data.local == null ? {} : { local: data.local }),
    ...(data.seal_wrap == null ? {} : { seal_wrap: data.seal_wrap }),
  });
  return { noContent: true };
}

/** Tunes a mount (POST sys/mounts/:path/tune, sys/auth/:path/tune): Vault's rules for each field. */
export async function tuneMount(table: MountTable, entry: MountEntry, data: TuneFields): Promise<CoreResponse> {
  const full = table.routePrefix + entry.path;
  if (UNTUNABLE.some((p) => full.startsWith(p))) throw invalid(`cannot tune "${full}"`);
  if (data.token_type) {
    if (table.routePrefix === '') throw invalid("'token_type' can only be modified on auth mounts");
    if (entry.type === 'token') throw invalid("'token_type' cannot be set for 'token' auth mounts");
  }
  const warnings: string[] = [];
  let nextOptions: Record<string, string> | undefined;
  if (data.options && Object.keys(data.options).length > 0) {
    nextOptions = { ...entry.options };
    for (const [k, v] of Object.entries(data.options)) {
      if (k === 'version') {
        const current = Number(entry.options['version'] ?? '1');
        const wanted = Number(v);
        if (wanted !== 1 && wanted !== 2) throw invalid(`invalid version provided: ${v}`);
        if (current > wanted) throw invalid(`cannot downgrade mount from version ${current}`);
        if (current < wanted) warnings.push(`Upgrading mount from version ${current} to version ${wanted}. This mount will be unavailable for a brief period and will resume service shortly.`);
        nextOptions[k] = String(wanted);
      } else if (v === '') {
        delete nextOptions[k];
      } else {
        nextOptions[k] = v;
      }
    }
  }
  await table.tune(entry.path, {
    ...(data.default_lease_ttl === undefined ? {} : { default_lease_ttl: data.default_lease_ttl }),
    ...(data.max_lease_ttl === undefined ? {} : { max_lease_ttl: data.max_lease_ttl }),
    ...(data.description == null ? {} : { description: data.description }),
    ...(nextOptions ? { options: nextOptions } : {}),
    extras: { ...pickExtras(data, table), ...(table.routePrefix === 'auth/' ? lockoutExtras(data.user_lockout_config) : {}) },
  });
  return warnings.length > 0 ? { warnings } : { noContent: true };
}

/** The backend type a mount request names (`plugin`: the plugin_name given); Vault's 400 when none. */
export function requestedType(data: MountFields): string {
  const type = data.type === 'plugin' ? data.config?.plugin_name || data.plugin_name || '' : data.type ?? '';
  if (type === '') throw invalid('backend type must be specified as a string');
  return type;
}

/** A mount that a sys/mounts or sys/auth path names, with the table it is in. */
export interface LocatedMount {
  readonly table: MountTable;
  readonly entry: MountEntry;
}

/**
 * GET/POST <mounts or auth>/:path/tune. `locate` finds the mount from the raw path parameter;
 * `shownPrefix` is put before the path in errors (sys/auth's say "auth/<path>", as Vault's do).
 */
export function tunePath(spec: {
  readonly pattern: string;
  readonly help: string;
  readonly sudo?: true;
  readonly locate: (rawPath: string) => LocatedMount | undefined;
  readonly shownPrefix: string;
}): PathSpec {
  const shown = (rawPath: string): string => spec.shownPrefix + normalizeMountPath(rawPath);
  return definePath({
    pattern: spec.pattern,
    help: spec.help,
    ...(spec.sudo ? { sudo: true } : {}),
    fields: tuneFields,
    fieldHelp: TUNE_FIELD_HELP,
    operations: {
      read: async (ctx) => {
        const found = spec.locate(ctx.params['path'] ?? '');
        if (!found) throw invalid(`cannot fetch mount entry for path "${shown(ctx.params['path'] ?? '')}"`);
        return { data: tuneView(found.table, found.entry) };
      },
      update: async (ctx) => {
        const found = spec.locate(ctx.params['path'] ?? '');
        if (!found) throw invalid(`tune of path "${shown(ctx.params['path'] ?? '')}" failed: no mount entry found`);
        return tuneMount(found.table, found.entry, ctx.data);
      },
    },
  });
}

export interface MountPathDeps {
  readonly secrets: MountTable;
  readonly auth: MountTable;
}

export function mountPaths(d: MountPathDeps): PathSpec[] {
  /** sys/mounts/auth/... reaches the auth table, as in Vault (tune and read only). */
  const locate = (raw: string): LocatedMount | undefined => {
    const path = normalizeMountPath(raw);
    const [table, rel] = path.startsWith('auth/') ? [d.auth, path.slice(5)] : [d.secrets, path];
    const resolved = rel === '' ? undefined : table.resolve(rel);
    return resolved ? { table, entry: resolved.mounted.entry } : undefined;
  };
  return [
    definePath({
      pattern: 'mounts',
      help: 'Lists the secrets engines mounted, keyed by path.',
      operations: { read: async () => ({ data: mountTableView(d.secrets) }) },
    }),
    tunePath({
      pattern: 'mounts/:path*/tune',
      help: 'Reads or tunes a mount: lease TTLs, description, options and audit/header settings.',
      locate,
      shownPrefix: '',
    }),
    definePath({
      pattern: 'mounts/:path*',
      help: 'Enables (POST), reads (GET) or disables (DELETE; its data is deleted) a secrets engine at a path.',
      fields: mountFields,
      fieldHelp: MOUNT_FIELD_HELP,
      operations: {
        read: async (ctx) => {
          const found = locate(ctx.params['path'] ?? '');
          if (!found || found.table !== d.secrets) throw invalid(`No secret engine mount at ${normalizeMountPath(ctx.params['path'] ?? '')}`);
          return { data: mountInfo(found.table, found.entry) };
        },
        update: async (ctx) => {
          const path = normalizeMountPath(ctx.params['path'] ?? '');
          const data = ctx.data;
          let type = requestedType(data);
          let options = data.options ?? undefined;
          // Vault's aliases: kv-v1 and kv-v2 are the kv engine with a version option.
          if (type === 'kv-v1' || type === 'kv-v2') {
            options = { ...options, version: type === 'kv-v1' ? '1' : '2' };
            type = 'kv';
          } else if (type !== 'kv' && options?.['version']) {
            throw invalid(`secrets engine "${type}" does not allow setting a version`);
          }
          return enableMount(d.secrets, path, type, data, options);
        },
        delete: async (ctx) => {
          await d.secrets.unmount(normalizeMountPath(ctx.params['path'] ?? ''));
          return { noContent: true };
        },
      },
    }),
    definePath({
      pattern: 'remount',
      help: 'Moves a mount to a new path, with its data (auth/ paths move auth methods). Returns a migration id.',
      sudo: true,
      fields: z.object({ from: z.string().nullish(), to: z.string().nullish() }),
      fieldHelp: { from: 'The current path of the mount.', to: 'The new path of the mount.' },
      operations: {
        update: async (ctx) => {
          const { from, to } = ctx.data;
          if (!from || !to) throw invalid("both 'from' and 'to' path must be specified as a string");
          const src = normalizeMountPath(from);
          const dst = normalizeMountPath(to);
          if (src.startsWith('auth/') !== dst.startsWith('auth/')) {
            throw invalid(src.startsWith('auth/') ? `cannot remount auth mount to non-auth mount "${dst}"` : `cannot remount non-auth mount to auth mount "${dst}"`);
          }
          const [table, a, b] = src.startsWith('auth/') ? [d.auth, src.slice(5), dst.slice(5)] : [d.secrets, src, dst];
          if (a === '' || b === '') throw invalid('mount path must not be empty');
          await table.remount(a, b);
          // Coffer moves synchronously; the id and status exist for clients that poll, as with Vault.
          const id = randomUUID();
          await putJson(ctx.storage, `remount-status/${id}`, { source_mount: src, target_mount: dst, status: 'success' });
          return { data: { migration_id: id } };
        },
      },
    }),
    definePath({
      pattern: 'remount/status/:migration_id',
      help: 'The status of a remount by its migration id.',
      fieldHelp: { migration_id: 'The id sys/remount returned.' },
      operations: {
        read: async (ctx) => {
          const id = ctx.params['migration_id'] ?? '';
          const info = /^[0-9a-f-]{36}$/.test(id) ? await getJson(ctx.storage, `remount-status/${id}`) : undefined;
          if (info === undefined) throw notFound();
          return { data: { migration_id: id, migration_info: info } };
        },
      },
    }),
  ];
}

function configView(table: MountTable, entry: MountEntry): Record<string, unknown> {
  const c = entry.config;
  const out: Record<string, unknown> = { force_no_cache: c['force_no_cache'] === true };
  for (const key of EXTRA_KEYS) {
    const v = c[key];
    if (key === 'force_no_cache' || key === 'token_type' || v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    out[key] = v;
  }
  if (table.routePrefix === 'auth/') out['token_type'] = typeof c['token_type'] === 'string' && c['token_type'] !== '' ? c['token_type'] : 'default-service';
  return out;
}

/** The extra config fields that were sent; token_type only counts on auth mounts. */
function pickExtras(source: Partial<Record<(typeof EXTRA_KEYS)[number], string | boolean | string[] | null | undefined>>, table: MountTable): MountConfigExtras {
  const out: MountConfigExtras = {};
  for (const key of EXTRA_KEYS) {
    const v = source[key];
    if (v === undefined || v === null || (key === 'token_type' && (table.routePrefix !== 'auth/' || v === ''))) continue;
    out[key] = v;
  }
  return out;
}
