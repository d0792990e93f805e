import type { Command } from 'commander';
import { Option } from 'commander';
import { parseKvArgs } from '../args.js';
import { EXIT, UsageError, run } from '../context.js';
import type { CliContext } from '../context.js';
import { formatTable, printJson, printLines, printNotice, printWarnings } from '../output.js';
import type { Secret } from '../../sdk/index.js';
import { fieldOption, isWrapped, printField, printSecret, rawField, wrapOf, wrapTtlOption } from './secret-output.js';

/** `--field` picks one value; otherwise the whole response (JSON) or Vault's table. */
function show(ctx: CliContext, secret: Secret, field: string | undefined): number | void {
  if (field !== undefined) return printField(ctx, rawField(secret, field), field);
  printSecret(ctx, secret);
}

/** `coffer read|write|list|delete PATH`: the generic verbs, for any path of any engine. */
export function registerGeneric(program: Command): void {
  program
    .command('read')
    .description('Read data from a path (GET).')
    .argument('<path>', 'path to read, e.g. secret/data/app')
    .addOption(fieldOption())
    .addOption(wrapTtlOption())
    .action(async (path: string, opts: { field?: string; wrapTtl?: string }, cmd: Command) =>
      run(cmd, `reading ${path}`, async (ctx) => {
        const secret = await ctx.client().read(path, wrapOf(opts));
        if (secret === null) {
          printNotice(`No value found at ${path}`);
          return EXIT.remote;
        }
        return show(ctx, secret, opts.field);
      }),
    );

  program
    .command('write')
    .description('Write data to a path (PUT). Data: key=value, key=@file, key=- (stdin), - (JSON object on stdin), @file.json.')
    .argument('<path>', 'path to write, e.g. sys/policies/acl/dev')
    .argument('[data...]', 'key=value pairs')
    .addOption(new Option('-f, --force', 'allow writing with no data'))
    .addOption(fieldOption())
    .addOption(wrapTtlOption())
    .action(async (path: string, data: string[], opts: { force?: boolean; field?: string; wrapTtl?: string }, cmd: Command) =>
      run(cmd, `writing data to ${path}`, async (ctx) => {
        if (data.length === 0 && opts.force !== true) throw new UsageError('Must supply data or use --force');
        const body = await parseKvArgs(data);
        const secret = await ctx.client().write(path, body, wrapOf(opts));
        if (secret === null) {
          if (ctx.format === 'table') printLines(`Success! Data written to: ${path}`);
          return;
        }
        return show(ctx, secret, opts.field);
      }),
    );

  program
    .command('list')
    .description('List the keys under a path (LIST); folders end in /.')
    .argument('<path>', 'path to list, e.g. secret/metadata/')
    .addOption(wrapTtlOption())
    .action(async (path: string, opts: { wrapTtl?: string }, cmd: Command) =>
      run(cmd, `listing ${path}`, async (ctx) => {
        const secret = await ctx.client().list(path, wrapOf(opts));
        if (secret !== null && isWrapped(secret)) return void printSecret(ctx, secret);
        if (secret === null) {
          printNotice(`No value found at ${path}`);
          return EXIT.remote;
        }
        if (ctx.format === 'json') {
          printJson(secret.data.keys);
          return;
        }
        printWarnings(secret.warnings);
        printLines(formatTable(secret.data.keys.map((k) => [k]), ['Keys']));
      }),
    );

  program
    .command('delete')
    .description('Delete the data at a path (DELETE).')
    .argument('<path>', 'path to delete')
    .action(async (path: string, _opts: unknown, cmd: Command) =>
      run(cmd, `deleting ${path}`, async (ctx) => {
        const secret = await ctx.client().delete(path);
        if (secret !== null && ctx.format === 'json') printJson(secret);
        else if (ctx.format === 'table') {
          if (secret !== null) printWarnings(secret.warnings);
          printLines(`Success! Data deleted (if it existed) at: ${path}`);
        }
      }),
    );
}
