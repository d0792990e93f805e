import type { Command } from 'commander';
import type { InitResponse } from '../../sdk/index.js';
import { nonEmpty, positiveInt } from '../args.js';
import { EXIT, UsageError, run } from '../context.js';
import { printJson, printKeyValues, printLines } from '../output.js';
import { promptSecret } from '../prompt.js';
import { keyStatusRows } from '../views.js';
import { registerGenerateRoot } from './generate-root.js';
import { registerRekey } from './rekey.js';
import { printSealStatus } from './status.js';

/** Vault's `operator init -format=json` shape, which scripts and tools parse. */
function initJson(res: InitResponse, shares: number, threshold: number): Record<string, unknown> {
  return {
    unseal_keys_b64: res.keys_base64,
    unseal_keys_hex: res.keys,
    unseal_shares: shares,
    unseal_threshold: threshold,
    recovery_keys_b64: res.recovery_keys_base64 ?? [],
    recovery_keys_hex: res.recovery_keys ?? [],
    recovery_keys_shares: 0,
    recovery_keys_threshold: 0,
    root_token: res.root_token,
  };
}

function initText(res: InitResponse, shares: number, threshold: number): string {
  const keys = res.keys_base64.map((k, i) => `Unseal Key ${i + 1}: ${k}`).join('\n');
  return `${keys}

Initial Root Token: ${res.root_token}

Coffer initialized with ${shares} key shares and a key threshold of ${threshold}. Please
securely distribute the key shares printed above. When Coffer is re-sealed,
restarted, or stopped, you must supply at least ${threshold} of these keys to unseal it
before it can start servicing requests.

Coffer does not store the generated root key. Without at least ${threshold} keys to
reconstruct the root key, Coffer will remain permanently sealed!

It is possible to generate new unseal keys, provided you have a quorum of
existing unseal keys shares. See "coffer operator rekey" for more information.`;
}

function registerInit(operator: Command): void {
  operator
    .command('init')
    .description('Initialize the server: generate the unseal key shares and the initial root token.')
    .option('--key-shares <n>', 'number of unseal key shares to split the key into', positiveInt, 5)
    .option('--key-threshold <t>', 'number of shares needed to unseal', positiveInt, 3)
    .option('--status', 'only report whether the server is initialized (exit 0 yes, 2 no)')
    .action(async (opts: { keyShares: number; keyThreshold: number; status?: boolean }, cmd: Command) =>
      run(cmd, 'initializing', async (ctx) => {
        const client = ctx.client();
        if (opts.status === true) {
          const { initialized } = await client.sys.initStatus();
          printLines(initialized ? 'Coffer is initialized' : 'Coffer is not initialized');
          return initialized ? EXIT.ok : 2;
        }
        if (opts.keyThreshold > opts.keyShares) throw new UsageError('--key-threshold cannot be larger than --key-shares');
        const res = await client.sys.init({ secret_shares: opts.keyShares, secret_threshold: opts.keyThreshold });
        if (ctx.format === 'json') printJson(initJson(res, opts.keyShares, opts.keyThreshold));
        else printLines(initText(res, opts.keyShares, opts.keyThreshold));
      }),
    );
}

function registerUnseal(operator: Command): void {
  operator
    .command('unseal')
    .description('Submit one unseal key share (prompted without echo when not given), then print the seal status.')
    .argument('[key]', 'unseal key share, base64 or hex')
    .option('--reset', 'discard the unseal progress so far')
    .action(async (key: string | undefined, opts: { reset?: boolean }, cmd: Command) =>
      run(cmd, 'unsealing', async (ctx) => {
        const client = ctx.client();
        if (opts.reset === true && key !== undefined) throw new UsageError('--reset takes no key');
        const status =
          opts.reset === true
            ? await client.sys.unseal({ reset: true })
            : await client.sys.unseal(nonEmpty(key) ?? (await promptSecret('Unseal Key (will be hidden): ')));
        await printSealStatus(ctx, status);
      }),
    );
}

function registerSimple(operator: Command): void {
  operator
    .command('seal')
    .description('Seal the server: it forgets its keys until unsealed again (needs a root or sudo token).')
    .action(async (_opts: unknown, cmd: Command) =>
      run(cmd, 'sealing', async (ctx) => {
        await ctx.client().sys.seal();
        printLines('Success! Coffer is sealed.');
      }),
    );

  operator
    .command('rotate')
    .description('Add a new barrier encryption key term; older terms keep decrypting.')
    .action(async (_opts: unknown, cmd: Command) =>
      run(cmd, 'rotating key', async (ctx) => {
        const client = ctx.client();
        await client.sys.rotate();
        const status = await client.sys.keyStatus();
        if (ctx.format === 'json') {
          printJson(status);
          return;
        }
        printLines('Success! Rotated key\n');
        printKeyValues(keyStatusRows(status), false);
      }),
    );

  operator
    .command('key-status')
    .description('Print the active barrier key term, install time and encryption count.')
    .action(async (_opts: unknown, cmd: Command) =>
      run(cmd, 'reading key status', async (ctx) => {
        const status = await ctx.client().sys.keyStatus();
        if (ctx.format === 'json') printJson(status);
        else printKeyValues(keyStatusRows(status), false);
      }),
    );
}

/** `coffer operator ...`: the seal's life cycle. */
export function registerOperator(program: Command): void {
  const operator = program.command('operator').description('Operate the server: init, unseal, seal, rotate, rekey.');
  registerInit(operator);
  registerUnseal(operator);
  registerSimple(operator);
  registerRekey(operator);
  registerGenerateRoot(operator);
}
