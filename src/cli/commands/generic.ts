import type { Command } from 'commander';
import { Option } from 'commander';
import { parseKvArgs } from '../args.js';
import { EXIT, UsageError, run } from '../context.js';
import type { CliContext } from '../context.js';
import { formatTable, printJson, printKeyValues, printLines, printNotice, printWarnings } from '../output.js';
import type { Secret } from '../../sdk/index.js';
import { secretRows } from '../views.js';

function printSecret(ctx: CliContext, secret: Secret): void {
  if (ctx.format === 'json') {
    printJson(secret);
    return;
  }
  printWarnings(secret.warnings);
  const rows = secretRows(secret);
  if (rows.length > 0) printKeyValues(rows);
}

/** `coffer read|write|list|delete PATH`: the generic verbs, for any path of any engine. */
export function registerGeneric(program: Command): void {
  program
    .command('read')
    .description('Read data from a path (GET).')
    .argument('<path>', 'path to read, e.g. secret/data/app')
    .action(async (path: string, _opts: unknown, cmd: Command) =>
      run(cmd, `reading ${path}`, async (ctx) => {
        const secret = await ctx.client().read(path);
        if (secret === null) {
          printNotice(`No value found at ${path}`);
          return EXIT.remote;
        }
        printSecret(ctx, secret);
      }),
    );

  program
    .command('write')
    .description('Write data to a path (PUT). Data: key=value, key=@file, key=- (stdin), - (JSON object on stdin), @file.json.')
    .argument('<path>', 'path to write, e.g. sys/policies/acl/dev')
    .argument('[data...]', 'key=value pairs')
    .addOption(new Option('--force', 'allow writing with no data'))
    .action(async (path: string, data: string[], opts: { force?: boolean }, cmd: Command) =>
      run(cmd, `writing data to ${path}`, async (ctx) => {
        if (data.length === 0 && opts.force !== true) throw new UsageError('Must supply data or use --force');
        const body = await parseKvArgs(data);
        const secret = await ctx.client().write(path, body);
        if (secret === null) {
          if (ctx.format === 'table') printLines(`Success! Data written to: ${path}`);
          return;
        }
        printSecret(ctx, secret);
      }),
    );

  program
    .command('list')
    .description('List the keys under a path (LIST); folders end in /.')
    .argument('<path>', 'path to list, e.g. secret/metadata/')
    .action(async (path: string, _opts: unknown, cmd: Command) =>
      run(cmd, `listing ${path}`, async (ctx) => {
        const secret = await ctx.client().list(path);
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
