import type { Command } from 'commander';
import { EXIT, run } from '../context.js';
import { formatTable, printJson, printNotice } from '../output.js';
import { fieldOption, printField, printLine, printSecret, rawField } from './secret-output.js';

/** `coffer unwrap [TOKEN]`: the response behind a wrapping token (default: the token you are using). */
export function registerUnwrap(program: Command): void {
  program
    .command('unwrap')
    .description('Unwrap a wrapping token (single use) and print the response it stands for.')
    .argument('[token]', 'the wrapping token (default: the current token, e.g. COFFER_TOKEN=<wrapping token>)')
    .addOption(fieldOption())
    .action(async (token: string | undefined, opts: { field?: string }, cmd: Command) =>
      run(cmd, 'unwrapping', async (ctx) => {
        const given = token?.trim();
        const secret = await ctx.client().wrapping.unwrap(given === undefined || given === '' ? undefined : given);
        if (secret === null) {
          printNotice('Could not find wrapped response');
          return EXIT.remote;
        }
        if (opts.field !== undefined) return printField(ctx, rawField(secret, opts.field), opts.field);
        // A wrapped LIST answer is shown as a list, as Vault does.
        const keys: unknown = secret.data?.['keys'];
        if (Array.isArray(keys) && keys.every((k): k is string => typeof k === 'string') && Object.keys(secret.data ?? {}).length === 1) {
          if (ctx.format === 'json') return void printJson(keys);
          return void printLine(formatTable([...keys].sort().map((k) => [k]), ['Keys']));
        }
        printSecret(ctx, secret);
      }),
    );
}
