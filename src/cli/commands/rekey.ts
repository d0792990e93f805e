import type { Command } from 'commander';
import type { RekeyStatus, RekeyUpdateResponse } from '../../sdk/index.js';
import { nonEmpty, positiveInt } from '../args.js';
import { UsageError, run } from '../context.js';
import type { CliContext } from '../context.js';
import { printJson, printKeyValues, printLines } from '../output.js';
import { promptSecret } from '../prompt.js';
import { rekeyStatusRows } from '../views.js';

interface RekeyOptions {
  init?: boolean;
  cancel?: boolean;
  status?: boolean;
  keyShares: number;
  keyThreshold: number;
  nonce?: string;
}

function completedText(res: RekeyUpdateResponse, status: RekeyStatus): string {
  const keys = res.keys_base64 ?? res.keys ?? [];
  return `${keys.map((k, i) => `Key ${i + 1}: ${k}`).join('\n')}

Operation nonce: ${res.nonce || status.nonce}

Coffer rekeyed with ${keys.length} key shares and a key threshold of ${status.t}. Please
securely distribute the key shares printed above. When Coffer is re-sealed,
restarted, or stopped, you must supply at least ${status.t} of these keys to unseal it
before it can start servicing requests.`;
}

async function submitKey(ctx: CliContext, key: string | undefined, nonceFlag: string | undefined): Promise<void> {
  const client = ctx.client();
  // The status gives the nonce to use by default and the new threshold to report at the end.
  const status = await client.sys.rekeyStatus();
  if (!status.started) throw new UsageError('No rekey is in progress. Start one with "coffer operator rekey --init".');
  const nonce = nonceFlag ?? status.nonce;
  const share = nonEmpty(key) ?? (await promptSecret(`Rekey operation nonce: ${nonce}\nUnseal Key (will be hidden): `));
  const res = await client.sys.rekeyUpdate(share, nonce);
  if (res.complete) {
    if (ctx.format === 'json') printJson(res);
    else printLines(completedText(res, status));
    return;
  }
  const progress = await client.sys.rekeyStatus();
  if (ctx.format === 'json') printJson(progress);
  else printKeyValues(rekeyStatusRows(progress));
}

/**
 * `coffer operator rekey`: `--init` starts a rekey, each later call submits one current unseal key
 * (argument, prompt or stdin), the last one prints the new keys. `--status`, `--cancel`.
 */
export function registerRekey(operator: Command): void {
  operator
    .command('rekey')
    .description('Replace the unseal keys: --init, then submit current keys one per call until the new keys are printed.')
    .argument('[key]', 'a current unseal key share, base64 or hex (prompted when not given)')
    .option('--init', 'start a rekey')
    .option('--cancel', 'cancel the rekey in progress')
    .option('--status', 'print the rekey progress')
    .option('--key-shares <n>', 'number of new key shares (with --init)', positiveInt, 5)
    .option('--key-threshold <t>', 'number of new shares needed to unseal (with --init)', positiveInt, 3)
    .option('--nonce <nonce>', 'nonce of the rekey to submit to (defaults to the one in progress)')
    .action(async (key: string | undefined, opts: RekeyOptions, cmd: Command) =>
      run(cmd, 'rekeying', async (ctx) => {
        const modes = [opts.init, opts.cancel, opts.status].filter((m) => m === true).length;
        if (modes > 1) throw new UsageError('Only one of --init, --cancel and --status may be given');
        if (modes === 1 && key !== undefined) throw new UsageError('A key is only given when submitting, not with --init, --cancel or --status');
        const client = ctx.client();
        if (opts.cancel === true) {
          await client.sys.rekeyCancel();
          printLines('Success! Canceled rekeying (if it was started)');
          return;
        }
        if (opts.init === true || opts.status === true) {
          if (opts.init === true && opts.keyThreshold > opts.keyShares) {
            throw new UsageError('--key-threshold cannot be larger than --key-shares');
          }
          const status =
            opts.init === true
              ? await client.sys.rekeyInit({ secret_shares: opts.keyShares, secret_threshold: opts.keyThreshold })
              : await client.sys.rekeyStatus();
          if (ctx.format === 'json') printJson(status);
          else printKeyValues(rekeyStatusRows(status));
          return;
        }
        await submitKey(ctx, key, opts.nonce);
      }),
    );
}
