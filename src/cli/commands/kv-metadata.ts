import type { Command } from 'commander';
import type { KvMetadataInput } from '../../sdk/index.js';
import { EXIT, UsageError, run } from '../context.js';
import { printJson, printNotice, printWarnings } from '../output.js';
import { collectKeyValue, goBool, wholeNumber } from './flags.js';
import { locate, mountOption } from './kv-common.js';
import type { KvCommon } from './kv-common.js';
import {
  fieldOption, headerForMap, isWrapped, printField, printLine, printMap, printPathHeader, printSecret, printSecretTable, rawField, wrapOf,
  wrapTtlOption,
} from './secret-output.js';

/** Go's ParseBool literals, or undefined for anything else. */
function boolLiteral(value: string): boolean | undefined {
  try {
    return goBool(value);
  } catch {
    return undefined;
  }
}

interface MetadataPutOptions extends KvCommon {
  maxVersions?: number;
  casRequired?: boolean | string;
  deleteVersionAfter?: string;
  customMetadata?: Record<string, string>;
}

/** `coffer kv metadata get|put|delete` (KV version 2 only). */
export function registerKvMetadata(kv: Command): void {
  const metadata = kv.command('metadata').description('Read and change a secret\'s metadata and version history (KV version 2).');

  metadata
    .command('get')
    .description('Print a secret\'s settings and the state of each of its versions.')
    .argument('<path>', 'secret path')
    .addOption(mountOption())
    .addOption(fieldOption())
    .addOption(wrapTtlOption())
    .action(async (path: string, opts: KvCommon, cmd: Command) =>
      run(cmd, `reading metadata of ${path}`, async (ctx) => {
        const at = await locate(ctx, path, opts);
        if (at.version !== 2) throw new UsageError('Metadata not supported on KV Version 1');
        const fullPath = ctx.client().kv.apiPath(at, 'metadata');
        const secret = await ctx.client().kv.readMetadata(at, wrapOf(opts));
        if (secret === null) {
          printNotice(`No value found at ${fullPath}`);
          return EXIT.remote;
        }
        if (opts.field !== undefined) return printField(ctx, rawField(secret, opts.field), opts.field);
        if (isWrapped(secret) || ctx.format === 'json') return void printSecret(ctx, secret);
        const { versions, ...settings } = secret.data ?? {};
        printWarnings(secret.warnings);
        printPathHeader('Metadata Path', fullPath);
        printLine(headerForMap('Metadata', settings));
        printSecretTable({ ...secret, warnings: null, data: settings });
        const byVersion = typeof versions === 'object' && versions !== null ? (versions as Record<string, unknown>) : {};
        for (const v of Object.keys(byVersion).map(Number).sort((a, b) => a - b)) {
          const entry = byVersion[String(v)];
          const row = typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>) : {};
          printLine(`\n${headerForMap(`Version ${v}`, row)}`);
          printMap(row);
        }
      }),
    );

  metadata
    .command('put')
    .description('Change a secret\'s settings (only the flags given); creates the metadata if needed.')
    .argument('[path]', 'secret path')
    .addOption(mountOption())
    .option('--max-versions <n>', 'versions to keep (0: the engine\'s setting)', wholeNumber)
    .option('--cas-required [bool]', 'every write must use check-and-set (--cas-required=false to turn it off)')
    .option('--delete-version-after <duration>', 'soft-delete each version this long after it is written ("0s": never)')
    .option('--custom-metadata <key=value>', 'a custom metadata entry (repeatable; replaces the whole set)', collectKeyValue)
    .action(async (pathArg: string | undefined, opts: MetadataPutOptions, cmd: Command) =>
      run(cmd, `writing metadata of ${pathArg ?? ''}`, async (ctx) => {
        // `--cas-required secret/app`: the optional value took the path; give it back.
        let path = pathArg;
        if (typeof opts.casRequired === 'string') {
          const literal = boolLiteral(opts.casRequired);
          if (literal === undefined) {
            if (path !== undefined) throw new UsageError(`--cas-required takes true or false, not ${JSON.stringify(opts.casRequired)}`);
            path = opts.casRequired;
            opts.casRequired = true;
          } else {
            opts.casRequired = literal;
          }
        }
        if (path === undefined) throw new UsageError('Not enough arguments (expected 1, got 0)');
        const input: KvMetadataInput = {
          ...(opts.maxVersions === undefined ? {} : { max_versions: opts.maxVersions }),
          ...(typeof opts.casRequired === 'boolean' ? { cas_required: opts.casRequired } : {}),
          ...(opts.deleteVersionAfter === undefined ? {} : { delete_version_after: opts.deleteVersionAfter }),
          ...(opts.customMetadata === undefined ? {} : { custom_metadata: opts.customMetadata }),
        };
        const at = await locate(ctx, path, opts);
        if (at.version !== 2) throw new UsageError('Metadata not supported on KV Version 1');
        const secret = await ctx.client().kv.writeMetadata(at, input);
        if (secret !== null) return void printSecret(ctx, secret);
        if (ctx.format === 'table') printLine(`Success! Data written to: ${ctx.client().kv.apiPath(at, 'metadata')}`);
      }),
    );

  metadata
    .command('delete')
    .description('Delete a secret completely: every version and its metadata.')
    .argument('<path>', 'secret path')
    .addOption(mountOption())
    .action(async (path: string, opts: KvCommon, cmd: Command) =>
      run(cmd, `deleting metadata of ${path}`, async (ctx) => {
        const at = await locate(ctx, path, opts);
        if (at.version !== 2) throw new UsageError('Metadata not supported on KV Version 1');
        const secret = await ctx.client().kv.deleteMetadata(at);
        if (secret !== null && ctx.format === 'json') return void printJson(secret);
        if (ctx.format === 'table') printLine(`Success! Data deleted (if it existed) at: ${ctx.client().kv.apiPath(at, 'metadata')}`);
      }),
    );
}
