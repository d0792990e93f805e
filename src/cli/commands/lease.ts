import type { Command } from 'commander';
import { Option } from 'commander';
import { UsageError, run } from '../context.js';
import { formatValue, printJson, printKeyValues, printLines, printWarnings } from '../output.js';
import { secretRows } from '../views.js';

/** `coffer lease lookup|renew|revoke`: the sys/leases API, worded as Vault's CLI. */
export function registerLease(program: Command): void {
  const lease = program.command('lease').description('Look up, renew and revoke leases.');

  lease
    .command('lookup')
    .description('Show a lease: issue and expire time, TTL, renewable (and why its revocation keeps failing, if it does).')
    .argument('<lease_id>', 'the lease id')
    .action(async (id: string, _opts: unknown, cmd: Command) =>
      run(cmd, 'looking up lease', async (ctx) => {
        const secret = await ctx.client().write('sys/leases/lookup', { lease_id: id });
        const data = secret?.data ?? {};
        if (ctx.format === 'json') return void printJson(secret);
        printWarnings(secret?.warnings);
        printKeyValues(Object.keys(data).sort().map((k) => [k, formatValue(data[k])] as const));
      }),
    );

  lease
    .command('renew')
    .description('Renew a lease, never past its max TTL.')
    .argument('<lease_id>', 'the lease id')
    .addOption(new Option('--increment <duration>', 'how long to extend it by, e.g. 1h (default: its original TTL)'))
    .action(async (id: string, opts: { increment?: string }, cmd: Command) =>
      run(cmd, 'renewing lease', async (ctx) => {
        const secret = await ctx.client().write('sys/leases/renew', { lease_id: id, ...(opts.increment === undefined ? {} : { increment: opts.increment }) });
        if (ctx.format === 'json') return void printJson(secret);
        if (!secret) return;
        printWarnings(secret.warnings);
        printKeyValues(secretRows(secret));
      }),
    );

  lease
    .command('revoke')
    .description('Revoke a lease, or with --prefix every lease under a prefix; --force (with --prefix) drops leases whose backend fails.')
    .argument('<id>', 'a lease id, or a prefix with --prefix')
    .addOption(new Option('--prefix', 'treat the argument as a prefix (needs sudo)'))
    .addOption(new Option('--force', 'with --prefix: drop the leases even when the backend cannot revoke them'))
    .addOption(new Option('--sync', 'accepted for compatibility: revocation is always synchronous'))
    .action(async (id: string, opts: { prefix?: boolean; force?: boolean }, cmd: Command) =>
      run(cmd, 'revoking lease', async (ctx) => {
        if (opts.force && !opts.prefix) throw new UsageError('Specifying -force requires also specifying -prefix');
        const client = ctx.client();
        if (opts.prefix) {
          const prefix = id.replace(/^\/+/, '');
          await client.write(`sys/leases/${opts.force ? 'revoke-force' : 'revoke-prefix'}/${prefix}`, {});
          if (ctx.format === 'table') printLines(`Success! Revoked any leases with prefix: ${prefix}`);
          return;
        }
        await client.write('sys/leases/revoke', { lease_id: id });
        if (ctx.format === 'table') printLines(`Success! Revoked lease: ${id}`);
      }),
    );
}
