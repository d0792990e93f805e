import type { Command } from 'commander';
import { Option } from 'commander';
import type { Secret, TokenCreateRequest } from '../../sdk/index.js';
import { UsageError, run } from '../context.js';
import type { CliContext } from '../context.js';
import { formatTable, printJson } from '../output.js';
import { collect, collectKeyValue, goBool, wholeNumber } from './flags.js';
import { fieldOption, printField, printLine, printSecret, rawField, wrapOf, wrapTtlOption } from './secret-output.js';

interface CreateOptions {
  id?: string;
  displayName?: string;
  ttl?: string;
  explicitMaxTtl?: string;
  period?: string;
  renewable?: boolean;
  orphan?: boolean;
  defaultPolicy: boolean;
  useLimit?: number;
  role?: string;
  type: 'service' | 'batch';
  metadata?: Record<string, string>;
  policy?: string[];
  entityAlias?: string;
  field?: string;
  wrapTtl?: string;
}

function createRequest(o: CreateOptions): TokenCreateRequest {
  return {
    ...(o.id === undefined ? {} : { id: o.id }),
    ...(o.policy === undefined ? {} : { policies: o.policy }),
    ...(o.metadata === undefined ? {} : { meta: o.metadata }),
    ...(o.orphan === true ? { no_parent: true } : {}),
    ...(o.defaultPolicy ? {} : { no_default_policy: true }),
    // As Vault: batch tokens are not renewable unless asked otherwise.
    renewable: o.renewable ?? o.type !== 'batch',
    ...(o.ttl === undefined ? {} : { ttl: o.ttl }),
    type: o.type,
    ...(o.explicitMaxTtl === undefined ? {} : { explicit_max_ttl: o.explicitMaxTtl }),
    ...(o.displayName === undefined ? {} : { display_name: o.displayName }),
    ...(o.useLimit === undefined ? {} : { num_uses: o.useLimit }),
    ...(o.period === undefined ? {} : { period: o.period }),
    ...(o.entityAlias === undefined ? {} : { entity_alias: o.entityAlias }),
  };
}

function show(ctx: CliContext, secret: Secret, field: string | undefined): number | void {
  if (field !== undefined) return printField(ctx, rawField(secret, field), field);
  printSecret(ctx, secret);
}

function registerCreate(token: Command): void {
  token
    .command('create')
    .description('Create a token: a child of yours (inheriting your policies unless --policy), or under --role.')
    .option('--id <token>', 'the token\'s value instead of a random one (root/sudo)')
    .option('--display-name <name>', 'a name shown in lookups and audit entries')
    .option('--ttl <duration>', 'initial TTL, e.g. 1h (default: the mount\'s)')
    .option('--explicit-max-ttl <duration>', 'hard limit on the lifetime, renewals included')
    .option('--period <duration>', 'periodic token: each renewal resets the TTL to this (root/sudo)')
    .option('--renewable [bool]', 'whether the token can be renewed (default true; false for batch)', goBool)
    .option('--orphan', 'no parent: not revoked with your token (root/sudo)')
    .option('--no-default-policy', 'leave out the default policy')
    .option('--use-limit <n>', 'number of uses before the token is revoked (0: unlimited)', wholeNumber)
    .option('--role <name>', 'create under this token role (auth/token/create/<role>)')
    .addOption(new Option('--type <type>', 'service or batch').choices(['service', 'batch']).default('service'))
    .option('--metadata <key=value>', 'metadata to attach (repeatable)', collectKeyValue)
    .option('--policy <name>', 'a policy for the token (repeatable)', collect)
    .option('--entity-alias <name>', 'entity alias to bind (with --role)')
    .addOption(fieldOption())
    .addOption(wrapTtlOption())
    .action(async (opts: CreateOptions, cmd: Command) =>
      run(cmd, 'creating token', async (ctx) => {
        const secret = await ctx.client().token.create(createRequest(opts), { ...(opts.role === undefined ? {} : { role: opts.role }), ...wrapOf(opts) });
        return show(ctx, secret, opts.field);
      }),
    );
}

function registerLookupRenew(token: Command): void {
  token
    .command('lookup')
    .description('Show a token\'s properties: yours, TOKEN\'s, or by --accessor.')
    .argument('[token]', 'the token (or accessor with --accessor); default: your own')
    .option('--accessor', 'the argument is an accessor')
    .addOption(fieldOption())
    .addOption(wrapTtlOption())
    .action(async (arg: string | undefined, opts: { accessor?: boolean; field?: string; wrapTtl?: string }, cmd: Command) =>
      run(cmd, 'looking up token', async (ctx) => {
        const value = arg?.trim();
        if (opts.accessor === true && !value) throw new UsageError('Not enough arguments with --accessor (expected 1, got 0)');
        const api = ctx.client().token;
        const secret = !value
          ? await api.lookupSelf(wrapOf(opts))
          : opts.accessor === true
            ? await api.lookupAccessor(value, wrapOf(opts))
            : await api.lookup(value, wrapOf(opts));
        return show(ctx, secret, opts.field);
      }),
    );

  token
    .command('renew')
    .description('Extend a token\'s TTL: yours, TOKEN\'s, or by --accessor.')
    .argument('[token]', 'the token (or accessor with --accessor); default: your own')
    .option('--accessor', 'the argument is an accessor')
    .option('--increment <duration>', 'requested extension, e.g. 1h (default: the token\'s TTL)')
    .addOption(fieldOption())
    .action(async (arg: string | undefined, opts: { accessor?: boolean; increment?: string; field?: string }, cmd: Command) =>
      run(cmd, 'renewing token', async (ctx) => {
        const value = arg?.trim();
        const api = ctx.client().token;
        const secret = !value
          ? await api.renewSelf(opts.increment)
          : opts.accessor === true
            ? await api.renewAccessor(value, opts.increment)
            : await api.renew(value, opts.increment);
        return show(ctx, secret, opts.field);
      }),
    );
}

function registerRevoke(token: Command): void {
  token
    .command('revoke')
    .description('Revoke a token and its children (--mode orphan keeps the children); TOKEN, --accessor ACCESSOR, or --self.')
    .argument('[token]', 'the token, or accessor with --accessor')
    .option('--accessor', 'the argument is an accessor')
    .option('--self', 'revoke your own token')
    .addOption(
      new Option('--mode <mode>', 'orphan: revoke only this token (its children become orphans); path: everything issued under the path prefix given')
        .choices(['orphan', 'path']),
    )
    .action(async (arg: string | undefined, opts: { accessor?: boolean; self?: boolean; mode?: string }, cmd: Command) =>
      run(cmd, 'revoking token', async (ctx) => {
        const value = arg?.trim() ?? '';
        if (opts.self === true && value !== '') throw new UsageError('Too many arguments with --self (expected 0, got 1)');
        if (opts.self !== true && value === '') throw new UsageError('Not enough arguments (expected 1 or --self, got 0)');
        if (opts.self === true && opts.accessor === true) throw new UsageError('Cannot use --self with --accessor!');
        if (opts.self === true && opts.mode !== undefined) throw new UsageError('Cannot use --self with --mode!');
        if (opts.accessor === true && opts.mode !== undefined) throw new UsageError(`Cannot use --accessor with --mode=${opts.mode}!`);
        const api = ctx.client().token;
        if (opts.self === true) await api.revokeSelf();
        else if (opts.accessor === true) await api.revokeAccessor(value);
        else if (opts.mode === 'orphan') await api.revokeOrphan(value);
        else if (opts.mode === 'path') await api.revokePrefix(value);
        else await api.revoke(value);
        printLine('Success! Revoked token (if it existed)');
      }),
    );
}

function registerCapabilities(token: Command): void {
  token
    .command('capabilities')
    .description('Show what a token may do on paths: PATH (yours), TOKEN PATH..., or --accessor ACCESSOR PATH...')
    .argument('<args...>', '[TOKEN | ACCESSOR] PATH...')
    .option('--accessor', 'the first argument is an accessor')
    .action(async (args: string[], opts: { accessor?: boolean }, cmd: Command) =>
      run(cmd, 'listing capabilities', async (ctx) => {
        if (opts.accessor === true && args.length < 2) throw new UsageError('Not enough arguments with --accessor (expected ACCESSOR PATH...)');
        const [who, paths] =
          args.length === 1 ? [{}, args] : [opts.accessor === true ? { accessor: args[0]! } : { token: args[0]! }, args.slice(1)];
        const caps = await ctx.client().token.capabilities(paths, who);
        if (ctx.format === 'json') return void printJson(paths.length === 1 ? caps[paths[0]!] : caps);
        if (paths.length === 1) return void printLine([...(caps[paths[0]!] ?? [])].sort().join(', '));
        printLine(formatTable(paths.map((p) => [p, [...(caps[p] ?? [])].sort().join(', ')]), ['Path', 'Capabilities']));
      }),
    );
}

/** `coffer token create|lookup|renew|revoke|capabilities`. */
export function registerToken(program: Command): void {
  const token = program.command('token').description('Create, inspect, renew and revoke tokens.');
  registerCreate(token);
  registerLookupRenew(token);
  registerRevoke(token);
  registerCapabilities(token);
}
