import type { Command } from 'commander';
import { Option } from 'commander';
import { CofferApiError, CofferClientError } from '../../sdk/index.js';
import type { KvLocation, Secret } from '../../sdk/index.js';
import { parseKvArgs } from '../args.js';
import { EXIT, UsageError, run } from '../context.js';
import type { CliContext } from '../context.js';
import { formatTable, printJson, printNotice, printWarnings } from '../output.js';
import { collect, collectList, wholeNumber } from './flags.js';
import { locate, mountOption, versionsOf } from './kv-common.js';
import type { KvCommon } from './kv-common.js';
import { registerKvMetadata } from './kv-metadata.js';
import {
  fieldOption, headerForMap, isWrapped, printField, printLine, printMap, printPathHeader, printSecret, rawField, wrapOf, wrapTtlOption,
} from './secret-output.js';

// `coffer kv ...`: Vault's `vault kv` commands. A path is `secret/app/db` (mount and secret
// together) or, with --mount, just the secret's path; the mount and its KV version come from
// sys/internal/ui/mounts/<path>, then v2 paths get their data/, metadata/, ... prefix.

/** `== Secret Path ==` and the new version's metadata (kv put/patch), or the whole answer when wrapped or JSON. */
function printWritten(ctx: CliContext, at: KvLocation, fullPath: string, secret: Secret | null, field: string | undefined): number {
  if (secret === null) {
    if (ctx.format === 'table') printLine(`Success! Data written to: ${fullPath}`);
    return EXIT.ok;
  }
  if (field !== undefined) return printField(ctx, rawField(secret, field), field);
  if (isWrapped(secret) || ctx.format === 'json' || at.version !== 2) {
    printSecret(ctx, secret);
    return EXIT.ok;
  }
  printWarnings(secret.warnings);
  printPathHeader('Secret Path', fullPath);
  const metadata = secret.data ?? {};
  printLine(headerForMap('Metadata', metadata));
  printMap(metadata);
  return EXIT.ok;
}

function printRead(ctx: CliContext, at: KvLocation, fullPath: string, secret: Secret, field: string | undefined): number {
  const data = secret.data ?? {};
  if (field !== undefined) {
    if (at.version !== 2 || isWrapped(secret)) return printField(ctx, rawField(secret, field), field);
    const inner = data['data'];
    if (typeof inner !== 'object' || inner === null) {
      printNotice(`No data found at ${fullPath}`);
      return EXIT.remote;
    }
    // `--field data` means the key named data if the secret has one, else the whole data block.
    const value = field === 'data' && !('data' in inner) ? inner : (inner as Record<string, unknown>)[field];
    return printField(ctx, value, field);
  }
  if (isWrapped(secret) || ctx.format === 'json') {
    printSecret(ctx, secret);
    return EXIT.ok;
  }
  printWarnings(secret.warnings);
  if (at.version === 2) printPathHeader('Secret Path', fullPath);
  const metadata = data['metadata'];
  if (typeof metadata === 'object' && metadata !== null) {
    printLine(headerForMap('Metadata', metadata as Record<string, unknown>));
    printMap(metadata as Record<string, unknown>);
    printLine('');
  }
  const shown = at.version === 2 ? data['data'] : data;
  if (typeof shown === 'object' && shown !== null) {
    printLine(headerForMap('Data', shown as Record<string, unknown>));
    printMap(shown as Record<string, unknown>);
  }
  return EXIT.ok;
}

async function patch(ctx: CliContext, at: KvLocation, fullPath: string, data: Record<string, unknown>, opts: { cas?: number; method?: string }): Promise<Secret | null> {
  const kv = ctx.client().kv;
  const readThenWrite = async (): Promise<Secret | null> => {
    const current = await kv.get(at);
    const meta = current?.data?.['metadata'];
    const old = current?.data?.['data'];
    // Remote state, not a usage mistake: exit 2, as Vault.
    if (current === null) throw new CofferClientError(`No value found at ${fullPath}`);
    if (typeof meta !== 'object' || meta === null || typeof old !== 'object' || old === null) {
      throw new CofferClientError(`No data found at ${fullPath}; patch only works on existing data`);
    }
    const merged: Record<string, unknown> = { ...(old as Record<string, unknown>) };
    for (const [k, v] of Object.entries(data)) {
      if (v === null) delete merged[k];
      else merged[k] = v;
    }
    const version = (meta as Record<string, unknown>)['version'];
    return kv.put(at, merged, typeof version === 'number' ? { cas: version } : {});
  };
  if (opts.method === 'rw') return readThenWrite();
  try {
    return await kv.patch(at, data, opts.cas !== undefined && opts.cas > 0 ? { cas: opts.cas } : {});
  } catch (e) {
    // As Vault: without --method, a server without PATCH (405) or a policy without `patch` (403) falls back to read+write.
    if (opts.method === undefined && e instanceof CofferApiError && (e.status === 405 || e.status === 403)) {
      if (e.status === 403) {
        printNotice(`Data was written to ${fullPath} but we recommend that you add the "patch" capability to your ACL policy in order to use HTTP PATCH in the future.`);
      }
      return readThenWrite();
    }
    throw e;
  }
}

function registerData(kv: Command): void {
  kv.command('put')
    .description('Write a new version of a secret (v2), or replace it (v1). Data: k=v, k=@file, k=-, -, @file.json.')
    .argument('<path>', 'secret path, e.g. secret/app/db (or app/db with --mount)')
    .argument('[data...]', 'key=value pairs')
    .addOption(mountOption())
    .option('--cas <version>', 'check-and-set: write only if this is the current version (0: only if new)', wholeNumber)
    .addOption(fieldOption())
    .addOption(wrapTtlOption())
    .action(async (path: string, args: string[], opts: KvCommon & { cas?: number }, cmd: Command) =>
      run(cmd, `writing data to ${path}`, async (ctx) => {
        if (args.length === 0) throw new UsageError('Must supply data');
        const data = await parseKvArgs(args);
        const at = await locate(ctx, path, opts);
        const fullPath = ctx.client().kv.apiPath(at, 'data');
        const secret = await ctx.client().kv.put(at, data, { ...(opts.cas === undefined ? {} : { cas: opts.cas }), ...wrapOf(opts) });
        return printWritten(ctx, at, fullPath, secret, opts.field);
      }),
    );

  kv.command('get')
    .description('Read a secret: the latest version, or --version N (v2).')
    .argument('<path>', 'secret path')
    .addOption(mountOption())
    .option('--version <n>', 'the version to read (v2; default: the latest)', wholeNumber)
    .addOption(fieldOption())
    .addOption(wrapTtlOption())
    .action(async (path: string, opts: KvCommon & { version?: number }, cmd: Command) =>
      run(cmd, `reading ${path}`, async (ctx) => {
        const at = await locate(ctx, path, opts);
        const fullPath = ctx.client().kv.apiPath(at, 'data');
        const secret = await ctx.client().kv.get(at, { ...(opts.version === undefined ? {} : { version: opts.version }), ...wrapOf(opts) });
        if (secret === null) {
          printNotice(`No value found at ${fullPath}`);
          return EXIT.remote;
        }
        return printRead(ctx, at, fullPath, secret, opts.field);
      }),
    );

  kv.command('patch')
    .description('Change some keys of the latest version (v2), keeping the others: HTTP PATCH (merge patch), or --method rw.')
    .argument('<path>', 'secret path')
    .argument('[data...]', 'key=value pairs')
    .addOption(mountOption())
    .option('--cas <version>', 'check-and-set: patch only if this is the current version', wholeNumber)
    .addOption(new Option('--method <method>', 'patch (HTTP PATCH only) or rw (read, merge, write); default: PATCH, falling back to rw').choices(['patch', 'rw']))
    .option('--remove-data <key>', 'remove this key (repeatable)', collect)
    .addOption(fieldOption())
    .action(async (path: string, args: string[], opts: KvCommon & { cas?: number; method?: string; removeData?: string[] }, cmd: Command) =>
      run(cmd, `writing data to ${path}`, async (ctx) => {
        if (args.length === 0 && (opts.removeData ?? []).length === 0) throw new UsageError('Must supply data');
        const data = await parseKvArgs(args);
        for (const key of opts.removeData ?? []) data[key] = null;
        const at = await locate(ctx, path, opts);
        if (at.version !== 2) {
          printNotice('K/V engine mount must be version 2 for patch support');
          return EXIT.remote;
        }
        const fullPath = ctx.client().kv.apiPath(at, 'data');
        const secret = await patch(ctx, at, fullPath, data, { ...(opts.cas === undefined ? {} : { cas: opts.cas }), ...(opts.method === undefined ? {} : { method: opts.method }) });
        return printWritten(ctx, at, fullPath, secret, opts.field);
      }),
    );

  kv.command('rollback')
    .description('Write an older version again as the newest (v2).')
    .argument('<path>', 'secret path')
    .addOption(mountOption())
    .requiredOption('--version <n>', 'the version to restore', wholeNumber)
    .addOption(fieldOption())
    .action(async (path: string, opts: KvCommon & { version: number }, cmd: Command) =>
      run(cmd, `rolling back ${path}`, async (ctx) => {
        if (opts.version <= 0) throw new UsageError(`Invalid value ${opts.version} for the version flag`);
        const kv = ctx.client().kv;
        const at = await locate(ctx, path, opts);
        if (at.version !== 2) {
          printNotice('K/V engine mount must be version 2 for rollback support');
          return EXIT.remote;
        }
        const fullPath = kv.apiPath(at, 'data');
        const current = await kv.get(at);
        const cas = (current?.data?.['metadata'] as Record<string, unknown> | null | undefined)?.['version'];
        const old = await kv.get(at, { version: opts.version });
        const meta = old?.data?.['metadata'] as Record<string, unknown> | null | undefined;
        if (current === null || old === null || typeof cas !== 'number' || meta == null) {
          printNotice(`No value found at ${fullPath}`);
          return EXIT.remote;
        }
        if (meta['destroyed'] === true) throw new CofferClientError('Cannot roll back to a version that has been destroyed');
        // A future deletion_time (delete_version_after) is not a deletion yet.
        const deletedAt = typeof meta['deletion_time'] === 'string' && meta['deletion_time'] !== '' ? Date.parse(meta['deletion_time']) : Number.NaN;
        if (deletedAt <= Date.now()) throw new CofferClientError('Cannot roll back to a version that has been deleted');
        const data = old.data?.['data'];
        if (typeof data !== 'object' || data === null) throw new CofferClientError(`No data found at ${fullPath}; rollback only works on existing data`);
        const secret = await kv.put(at, data as Record<string, unknown>, { cas });
        return printWritten(ctx, at, fullPath, secret, opts.field);
      }),
    );
}

function registerKeys(kv: Command): void {
  kv.command('list')
    .description('List the secrets and folders (ending in /) under a path.')
    .argument('<path>', 'folder path, e.g. secret/ or secret/app')
    .addOption(mountOption())
    .addOption(wrapTtlOption())
    .action(async (path: string, opts: KvCommon, cmd: Command) =>
      run(cmd, `listing ${path}`, async (ctx) => {
        const at = await locate(ctx, path, opts);
        const fullPath = ctx.client().kv.apiPath(at, 'metadata');
        const secret = await ctx.client().kv.list(at, wrapOf(opts));
        if (secret !== null && isWrapped(secret)) return void printSecret(ctx, secret);
        if (secret === null || secret.data.keys.length === 0) {
          printNotice(`No value found at ${fullPath}`);
          return EXIT.remote;
        }
        if (ctx.format === 'json') return void printJson(secret.data.keys);
        printWarnings(secret.warnings);
        printLine(formatTable([...secret.data.keys].sort().map((k) => [k]), ['Keys']));
      }),
    );

  kv.command('delete')
    .description('Soft-delete the latest version, or --versions (v2; undo with undelete); delete the secret (v1).')
    .argument('<path>', 'secret path')
    .addOption(mountOption())
    .option('--versions <list>', 'versions to delete, e.g. 1,2 (repeatable)', collectList)
    .action(async (path: string, opts: KvCommon & { versions?: string[] }, cmd: Command) =>
      run(cmd, `deleting ${path}`, async (ctx) => {
        const versions = versionsOf(opts.versions);
        const at = await locate(ctx, path, opts);
        const secret = await ctx.client().kv.delete(at, versions);
        if (secret !== null && ctx.format === 'json') return void printJson(secret);
        if (secret !== null) printWarnings(secret.warnings);
        if (ctx.format === 'table') printLine(`Success! Data deleted (if it existed) at: ${ctx.client().kv.apiPath(at, 'data')}`);
      }),
    );

  for (const [name, verb, what] of [['undelete', 'Undelete', 'Restore soft-deleted versions (v2).'], ['destroy', 'Destroy', 'Remove versions for good (v2).']] as const) {
    kv.command(name)
      .description(what)
      .argument('<path>', 'secret path')
      .addOption(mountOption())
      .option('--versions <list>', 'the versions, e.g. 1,2 (repeatable; required)', collectList)
      .action(async (path: string, opts: KvCommon & { versions?: string[] }, cmd: Command) =>
        run(cmd, `writing data to ${path}`, async (ctx) => {
          const versions = versionsOf(opts.versions);
          if (versions.length === 0) throw new UsageError(`No versions provided, use the "--versions" flag to specify the version to ${name}.`);
          const at = await locate(ctx, path, opts);
          if (at.version !== 2) throw new UsageError(`${verb} not supported on KV Version 1`);
          const secret = name === 'undelete' ? await ctx.client().kv.undelete(at, versions) : await ctx.client().kv.destroy(at, versions);
          if (secret !== null) return void printSecret(ctx, secret);
          if (ctx.format === 'table') printLine(`Success! Data written to: ${ctx.client().kv.apiPath(at, name)}`);
        }),
      );
  }
}

/** `coffer kv put|get|patch|list|delete|undelete|destroy|rollback|metadata`. */
export function registerKv(program: Command): void {
  const kv = program.command('kv').description('Read and write key/value secrets (KV version 1 and 2), as `vault kv`.');
  registerData(kv);
  registerKeys(kv);
  registerKvMetadata(kv);
}
