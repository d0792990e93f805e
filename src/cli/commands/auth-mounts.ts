import type { Command } from 'commander';
import { run } from '../context.js';
import { printWarnings } from '../output.js';
import { addConfigFlags, configOf, listMounts, mountInputOf, moveMount, withSlash } from './secrets.js';
import type { MountFlags } from './secrets.js';
import { printLine } from './secret-output.js';

/** `coffer auth enable|disable|list|tune|move` (sys/auth; every call needs sudo), shaped as `coffer secrets`. */
export function registerAuthMounts(program: Command): void {
  const auth = program.command('auth').description('Enable, tune, move and disable auth methods.');

  addConfigFlags(
    auth
      .command('enable')
      .description('Enable an auth method: coffer auth enable --path ci approle')
      .argument('<type>', 'method type, e.g. userpass, approle, jwt')
      .option('--path <path>', 'where to mount it under auth/ (default: the type)')
      .option('--local', 'mark the mount local (not replicated)')
      .option('--seal-wrap', 'accepted for Vault compatibility'),
    true,
  ).action(async (type: string, opts: MountFlags, cmd: Command) =>
    run(cmd, `enabling ${type} auth`, async (ctx) => {
      const path = withSlash(opts.path ?? type);
      await ctx.client().authMounts.enable(path, mountInputOf(type, opts));
      printLine(`Success! Enabled ${type} auth method at: ${path}`);
    }),
  );

  auth
    .command('disable')
    .description('Disable the auth method at a path; tokens it issued are revoked with it.')
    .argument('<path>', 'mount path under auth/')
    .action(async (path: string, _opts: unknown, cmd: Command) =>
      run(cmd, 'disabling auth', async (ctx) => {
        await ctx.client().authMounts.disable(withSlash(path));
        printLine(`Success! Disabled the auth method (if it existed) at: ${withSlash(path)}`);
      }),
    );

  auth
    .command('list')
    .description('List the enabled auth methods.')
    .option('--detailed', 'also show TTLs, token type, options, UUIDs and versions')
    .action(async (opts: { detailed?: boolean }, cmd: Command) =>
      run(cmd, 'listing enabled authentications', async (ctx) => listMounts(ctx, ctx.client().authMounts, opts.detailed === true, true)),
    );

  addConfigFlags(
    auth.command('tune').description('Change an auth method\'s TTLs, description, token type or options.').argument('<path>', 'mount path under auth/'),
    true,
  ).action(async (path: string, opts: MountFlags, cmd: Command) =>
    run(cmd, `tuning auth method ${withSlash(path)}`, async (ctx) => {
      printWarnings(await ctx.client().authMounts.tune(withSlash(path), configOf(opts, true)));
      printLine(`Success! Tuned the auth method at: ${withSlash(path)}`);
    }),
  );

  auth
    .command('move')
    .description('Move an auth method to another path under auth/.')
    .argument('<source>', 'current path under auth/')
    .argument('<destination>', 'new path under auth/')
    .action(async (source: string, destination: string, _opts: unknown, cmd: Command) =>
      run(cmd, `moving auth method ${withSlash(source)} to ${withSlash(destination)}`, async (ctx) =>
        moveMount(ctx, ctx.client().authMounts, source.replace(/^auth\//, ''), destination.replace(/^auth\//, ''), 'auth method', 'auth/'),
      ),
    );
}
