import type { Command } from 'commander';
import type { CofferClient, LeaderResponse, SealStatus } from '../../sdk/index.js';
import { EXIT, run } from '../context.js';
import type { CliContext } from '../context.js';
import { printJson, printKeyValues } from '../output.js';
import { sealStatusJson, sealStatusRows } from '../views.js';

/** sys/leader fails while sealed (and on servers without it): the status is still worth printing. */
async function leaderOrUndefined(client: CofferClient): Promise<LeaderResponse | undefined> {
  try {
    return await client.sys.leader();
  } catch {
    return undefined;
  }
}

/** Prints a seal status as `coffer status` does (shared with `operator unseal`). */
export async function printSealStatus(ctx: CliContext, status: SealStatus): Promise<void> {
  const leader = await leaderOrUndefined(ctx.client());
  if (ctx.format === 'json') printJson(sealStatusJson(status, leader));
  else printKeyValues(sealStatusRows(status, leader));
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('Print the seal status. Exit code: 0 unsealed, 2 sealed, 1 error.')
    .action(async (_opts: unknown, cmd: Command) =>
      run(
        cmd,
        'checking seal status',
        async (ctx) => {
          const status = await ctx.client().sys.sealStatus();
          await printSealStatus(ctx, status);
          return status.sealed ? 2 : EXIT.ok;
        },
        // 2 means "sealed" here, so every error is 1 (as Vault's status).
        { errorExit: EXIT.local },
      ),
    );
}
