import type { Command } from 'commander';
import { CofferClientError } from '../../sdk/index.js';
import type { MountConfigInput, MountInfo, MountInput, MountsApi } from '../../sdk/index.js';
import { run } from '../context.js';
import type { CliContext } from '../context.js';
import { formatTable, formatValue, printJson, printWarnings } from '../output.js';
import { collect, collectKeyValue, wholeNumber } from './flags.js';
import { printLine } from './secret-output.js';

// `coffer secrets ...` (sys/mounts). The option and table helpers are shared with `coffer auth ...`
// (sys/auth), which has the same shape.

export interface MountFlags {
  description?: string;
  defaultLeaseTtl?: string;
  maxLeaseTtl?: string;
  options?: Record<string, string>;
  version?: number;
  forceNoCache?: boolean;
  listingVisibility?: string;
  auditNonHmacRequestKeys?: string[];
  auditNonHmacResponseKeys?: string[];
  passthroughRequestHeaders?: string[];
  allowedResponseHeaders?: string[];
  tokenType?: string;
  local?: boolean;
  sealWrap?: boolean;
  path?: string;
}

export const withSlash = (p: string): string => `${p.trim().replace(/^\/+|\/+$/g, '')}/`;

/** The flags `enable` and `tune` share, as Vault's. */
export function addConfigFlags(cmd: Command, forAuth: boolean): Command {
  cmd
    .option('--description <text>', 'a human-friendly description')
    .option('--default-lease-ttl <duration>', 'default lease TTL, e.g. 1h ("system": the server\'s)')
    .option('--max-lease-ttl <duration>', 'maximum lease TTL, e.g. 24h ("system": the server\'s)')
    .option('--options <key=value>', 'a mount option (repeatable)', collectKeyValue)
    .option('--version <n>', 'engine version (kv: 1 or 2), same as --options version=N', wholeNumber)
    .option('--listing-visibility <mode>', '"unauth" lists it for everyone in the UI listing, "hidden" does not')
    .option('--audit-non-hmac-request-keys <key>', 'request key audit devices log unhashed (repeatable)', collect)
    .option('--audit-non-hmac-response-keys <key>', 'response key audit devices log unhashed (repeatable)', collect)
    .option('--passthrough-request-headers <header>', 'request header passed to the backend (repeatable)', collect)
    .option('--allowed-response-headers <header>', 'response header the backend may set (repeatable)', collect);
  if (forAuth) cmd.option('--token-type <type>', 'token type the method issues: default-service, default-batch, service, batch');
  else cmd.option('--force-no-cache', 'disable caching for this engine');
  return cmd;
}

/** The `config` object of an enable, or the body of a tune: only what was given. */
export function configOf(o: MountFlags, withDescription: boolean): MountConfigInput {
  const options = { ...(o.options ?? {}), ...(o.version === undefined ? {} : { version: String(o.version) }) };
  return {
    ...(o.defaultLeaseTtl === undefined ? {} : { default_lease_ttl: o.defaultLeaseTtl }),
    ...(o.maxLeaseTtl === undefined ? {} : { max_lease_ttl: o.maxLeaseTtl }),
    ...(o.forceNoCache === true ? { force_no_cache: true } : {}),
    ...(o.listingVisibility === undefined ? {} : { listing_visibility: o.listingVisibility }),
    ...(o.auditNonHmacRequestKeys === undefined ? {} : { audit_non_hmac_request_keys: o.auditNonHmacRequestKeys }),
    ...(o.auditNonHmacResponseKeys === undefined ? {} : { audit_non_hmac_response_keys: o.auditNonHmacResponseKeys }),
    ...(o.passthroughRequestHeaders === undefined ? {} : { passthrough_request_headers: o.passthroughRequestHeaders }),
    ...(o.allowedResponseHeaders === undefined ? {} : { allowed_response_headers: o.allowedResponseHeaders }),
    ...(o.tokenType === undefined ? {} : { token_type: o.tokenType }),
    ...(withDescription && o.description !== undefined ? { description: o.description } : {}),
    ...(withDescription && Object.keys(options).length > 0 ? { options } : {}),
  };
}

/** The body of `sys/mounts/:path` or `sys/auth/:path`. */
export function mountInputOf(type: string, o: MountFlags): MountInput {
  const options = { ...(o.options ?? {}), ...(o.version === undefined ? {} : { version: String(o.version) }) };
  return {
    type,
    ...(o.description === undefined ? {} : { description: o.description }),
    config: configOf(o, false),
    ...(Object.keys(options).length > 0 ? { options } : {}),
    ...(o.local === true ? { local: true } : {}),
    ...(o.sealWrap === true ? { seal_wrap: true } : {}),
  };
}

/** Vault's TTL column: the seconds a mount sets, `system` for the server's, blank for sys/ and cubbyhole/. */
function ttlCell(type: string, ttl: number): string {
  if (type === 'system' || type === 'cubbyhole') return '';
  return ttl !== 0 ? String(ttl) : 'system';
}

const na = (row: string[]): string[] => row.map((c) => (c === '' ? 'n/a' : c));

/** `secrets list` / `auth list`: JSON is the mount map; the table is Vault's (wider with --detailed). */
export async function listMounts(ctx: CliContext, api: MountsApi, detailed: boolean, forAuth: boolean): Promise<void> {
  const mounts = await api.list();
  if (ctx.format === 'json') return void printJson(mounts);
  const paths = Object.keys(mounts).sort();
  const m = (p: string): MountInfo => mounts[p]!;
  if (!detailed) {
    const header = forAuth ? ['Path', 'Type', 'Accessor', 'Description', 'Version'] : ['Path', 'Type', 'Accessor', 'Description'];
    const rows = paths.map((p) => na([p, m(p).type, m(p).accessor, m(p).description, ...(forAuth ? [m(p).plugin_version] : [])]));
    return void printLine(formatTable(rows, header));
  }
  const header = [
    'Path', 'Plugin', 'Accessor', 'Default TTL', 'Max TTL', forAuth ? 'Token Type' : 'Force No Cache', 'Replication', 'Seal Wrap',
    'External Entropy Access', 'Options', 'Description', 'UUID', 'Version', 'Running Version', 'Running SHA256', 'Deprecation Status',
  ];
  const rows = paths.map((p) => {
    const e = m(p);
    return na([
      p, e.type, e.accessor, ttlCell(e.type, e.config.default_lease_ttl), ttlCell(e.type, e.config.max_lease_ttl),
      forAuth ? (e.config.token_type ?? '') : String(e.config.force_no_cache), e.local ? 'local' : 'replicated', String(e.seal_wrap),
      String(e.external_entropy_access), formatValue(e.options ?? {}), e.description, e.uuid, e.plugin_version, e.running_plugin_version,
      e.running_sha256, e.deprecation_status,
    ]);
  });
  printLine(formatTable(rows, header));
}

/** `secrets move` / `auth move`: sys/remount, then the migration status, as Vault prints them. */
export async function moveMount(ctx: CliContext, api: MountsApi, from: string, to: string, what: string, prefix: string): Promise<void> {
  const src = withSlash(from);
  const dst = withSlash(to);
  const { migrationId, status } = await api.move(prefix + src, prefix + dst);
  printLine(`Started moving ${what} ${src} to ${dst}, with migration ID ${migrationId}`);
  if (status !== 'success') throw new CofferClientError(`Failure! Error encountered moving ${what} ${src} to ${dst}, with migration ID ${migrationId} (status: ${status})`);
  printLine(`Success! Finished moving ${what} ${src} to ${dst}, with migration ID ${migrationId}`);
}

/** `coffer secrets enable|disable|list|tune|move`. */
export function registerSecrets(program: Command): void {
  const secrets = program.command('secrets').description('Enable, tune, move and disable secrets engines.');

  addConfigFlags(
    secrets
      .command('enable')
      .description('Enable a secrets engine: coffer secrets enable --path team-a --version 2 kv')
      .argument('<type>', 'engine type, e.g. kv, kv-v2, transit')
      .option('--path <path>', 'where to mount it (default: the type)')
      .option('--local', 'mark the mount local (not replicated)')
      .option('--seal-wrap', 'accepted for Vault compatibility'),
    false,
  ).action(async (type: string, opts: MountFlags, cmd: Command) =>
    run(cmd, 'enabling', async (ctx) => {
      const path = withSlash(opts.path ?? type);
      await ctx.client().mounts.enable(path, mountInputOf(type, opts));
      printLine(`Success! Enabled the ${type} secrets engine at: ${path}`);
    }),
  );

  secrets
    .command('disable')
    .description('Disable the secrets engine at a path: its data is deleted.')
    .argument('<path>', 'mount path')
    .action(async (path: string, _opts: unknown, cmd: Command) =>
      run(cmd, 'disabling secrets engine', async (ctx) => {
        await ctx.client().mounts.disable(withSlash(path));
        printLine(`Success! Disabled the secrets engine (if it existed) at: ${withSlash(path)}`);
      }),
    );

  secrets
    .command('list')
    .description('List the enabled secrets engines.')
    .option('--detailed', 'also show TTLs, options, replication, UUIDs and versions')
    .action(async (opts: { detailed?: boolean }, cmd: Command) =>
      run(cmd, 'listing secrets engines', async (ctx) => listMounts(ctx, ctx.client().mounts, opts.detailed === true, false)),
    );

  addConfigFlags(
    secrets.command('tune').description('Change a secrets engine\'s TTLs, description or options.').argument('<path>', 'mount path'),
    false,
  ).action(async (path: string, opts: MountFlags, cmd: Command) =>
    run(cmd, `tuning secrets engine ${withSlash(path)}`, async (ctx) => {
      printWarnings(await ctx.client().mounts.tune(withSlash(path), configOf(opts, true)));
      printLine(`Success! Tuned the secrets engine at: ${withSlash(path)}`);
    }),
  );

  secrets
    .command('move')
    .description('Move a secrets engine, with its data, to another path.')
    .argument('<source>', 'current mount path')
    .argument('<destination>', 'new mount path')
    .action(async (source: string, destination: string, _opts: unknown, cmd: Command) =>
      run(cmd, `moving secrets engine ${withSlash(source)} to ${withSlash(destination)}`, async (ctx) =>
        moveMount(ctx, ctx.client().mounts, source, destination, 'secrets engine', ''),
      ),
    );
}
