import type { Command } from 'commander';
import { CofferApiError } from '../../sdk/index.js';
import { run } from '../context.js';
import { printJson } from '../output.js';
import { printLine } from './secret-output.js';

/** `coffer path-help PATH`: the help a path declares (`GET PATH?help=1`). */
export function registerPathHelp(program: Command): void {
  program
    .command('path-help')
    .description('Print the help for a path: its parameters and operations (a mount path lists all of its paths).')
    .argument('<path>', 'e.g. secret/, secret/data/app, sys/mounts')
    .action(async (path: string, _opts: unknown, cmd: Command) =>
      run(cmd, 'retrieving help', async (ctx) => {
        try {
          const help = await ctx.client().help(path);
          if (ctx.format === 'json') printJson(help);
          else printLine(help.help.trimEnd());
        } catch (e) {
          if (e instanceof CofferApiError && e.status === 404) {
            throw new CofferApiError({
              status: e.status, method: e.method, url: e.url, body: e.body,
              errors: [...e.errors, `"${path}" is not a path the server knows; "coffer secrets list" shows the mounts`],
            });
          }
          throw e;
        }
      }),
    );
}
