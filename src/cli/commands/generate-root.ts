import { randomInt } from 'node:crypto';
import type { Command } from 'commander';
import type { GenerateRootStatus } from '../../sdk/sys.js';
import { nonEmpty } from '../args.js';
import { UsageError, run } from '../context.js';
import type { CliContext } from '../context.js';
import { printJson, printKeyValues, printLines } from '../output.js';
import { promptSecret } from '../prompt.js';

interface GenerateRootOptions {
  init?: boolean;
  cancel?: boolean;
  status?: boolean;
  generateOtp?: boolean;
  decode?: string;
  otp?: string;
  nonce?: string;
  pgpKey?: string;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** The OTP the server would make: base62, as long as the root token (`otp_length`). */
function generateOtp(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += BASE62[randomInt(BASE62.length)];
  return out;
}

/** `vault operator generate-root -decode`: base64 (padded or not) of token XOR otp, back to the token. */
export function decodeRootToken(encoded: string, otp: string): string {
  const e = Buffer.from(encoded.trim(), 'base64');
  const o = Buffer.from(otp, 'utf8');
  if (e.length === 0 || e.length !== o.length) throw new UsageError('The encoded token and the OTP differ in length: check both values');
  return Buffer.from(e.map((b, i) => b ^ (o[i] ?? 0))).toString('utf8');
}

function statusRows(s: GenerateRootStatus): [string, unknown][] {
  const rows: [string, unknown][] = [
    ['Nonce', s.nonce === '' ? 'n/a' : s.nonce], ['Started', s.started], ['Progress', `${s.progress}/${s.required}`], ['Complete', s.complete],
  ];
  if (s.encoded_token !== '') rows.push(['Encoded Token', s.encoded_token]);
  if (s.otp !== '') rows.push(['OTP', s.otp]);
  if (s.otp_length > 0) rows.push(['OTP Length', s.otp_length]);
  return rows;
}

function print(ctx: CliContext, s: GenerateRootStatus): void {
  if (ctx.format === 'json') printJson(s);
  else printKeyValues(statusRows(s));
}

async function submitKey(ctx: CliContext, key: string | undefined, nonceFlag: string | undefined): Promise<void> {
  const client = ctx.client();
  const status = await client.sys.generateRootStatus();
  if (!status.started) throw new UsageError('No root generation is in progress. Start one with "coffer operator generate-root --init".');
  const nonce = nonceFlag ?? status.nonce;
  const share = nonEmpty(key) ?? (await promptSecret(`Operation nonce: ${nonce}\nUnseal Key (will be hidden): `));
  print(ctx, await client.sys.generateRootUpdate(share, nonce));
}

/**
 * `coffer operator generate-root`: `--init` starts an attempt (the server makes the OTP unless
 * `--otp` gives one), each later call submits one unseal key, the last prints the encoded token;
 * `--decode ENCODED --otp OTP` turns it into the root token locally.
 */
export function registerGenerateRoot(operator: Command): void {
  operator
    .command('generate-root')
    .description('Generate a new root token from a quorum of unseal keys: --init, submit keys, then --decode.')
    .argument('[key]', 'an unseal key share, base64 or hex (prompted when not given)')
    .option('--init', 'start a root token generation')
    .option('--cancel', 'cancel the root token generation in progress')
    .option('--status', 'print the root token generation progress')
    .option('--generate-otp', 'print a new OTP for --init --otp')
    .option('--decode <encoded>', 'decode the encoded token with --otp and print the root token')
    .option('--otp <otp>', 'the OTP: chosen for --init, or the one to decode with')
    .option('--nonce <nonce>', 'nonce of the attempt to submit to (defaults to the one in progress)')
    .option('--pgp-key <key>', 'not supported by Coffer: use an OTP')
    .action(async (key: string | undefined, opts: GenerateRootOptions, cmd: Command) =>
      run(cmd, 'generating a root token', async (ctx) => {
        const modes = [opts.init, opts.cancel, opts.status, opts.generateOtp, opts.decode !== undefined].filter((m) => m === true).length;
        if (modes > 1) throw new UsageError('Only one of --init, --cancel, --status, --generate-otp and --decode may be given');
        if (modes === 1 && key !== undefined) throw new UsageError('A key is only given when submitting one');
        if (opts.pgpKey !== undefined) throw new UsageError('PGP-encrypted root tokens are not supported: use an OTP');
        if (opts.decode !== undefined) {
          if (opts.otp === undefined) throw new UsageError('--decode needs --otp');
          printLines(decodeRootToken(opts.decode, opts.otp));
          return;
        }
        const client = ctx.client();
        if (opts.generateOtp === true) {
          printLines(generateOtp((await client.sys.generateRootStatus()).otp_length));
          return;
        }
        if (opts.cancel === true) {
          await client.sys.generateRootCancel();
          printLines('Success! Root token generation canceled (if it was started)');
          return;
        }
        if (opts.status === true) return print(ctx, await client.sys.generateRootStatus());
        if (opts.init === true) {
          const status = await client.sys.generateRootInit(opts.otp);
          print(ctx, status);
          if (ctx.format !== 'json' && status.otp !== '') {
            printLines('\nKeep the OTP: it decodes the final encoded token ("coffer operator generate-root --decode ENCODED --otp OTP").');
          }
          return;
        }
        await submitKey(ctx, key, opts.nonce);
      }),
    );
}
