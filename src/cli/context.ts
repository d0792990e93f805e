import type { Command } from 'commander';
import { CofferApiError, CofferClient, CofferClientError } from '../sdk/index.js';
import { printError } from './output.js';

/**
 * Exit codes, as Vault's CLI: 1 for local errors (bad flags or arguments, unreadable files),
 * 2 for remote errors (API failures, connection or TLS problems). `coffer status` and
 * `coffer operator init --status` override this (2 = sealed / not initialized, 1 = error).
 */
export const EXIT = { ok: 0, local: 1, remote: 2 } as const;

export type OutputFormat = 'table' | 'json';

/** A mistake in how the command was called: printed as is, exit 1. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** What an action gets: the chosen output format and a client built on first use. */
export interface CliContext {
  readonly format: OutputFormat;
  client(): CofferClient;
}

function optionString(opts: Record<string, unknown>, name: string): string | undefined {
  const value = opts[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** `--format`, then COFFER_FORMAT, then VAULT_FORMAT, then table. */
export function resolveFormat(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): OutputFormat {
  const raw = (flag ?? (env['COFFER_FORMAT'] || undefined) ?? (env['VAULT_FORMAT'] || undefined) ?? 'table').toLowerCase();
  if (raw === 'table' || raw === 'json') return raw;
  throw new UsageError(`Invalid output format: ${raw} (expected table or json)`);
}

function makeContext(cmd: Command): CliContext {
  const opts: Record<string, unknown> = cmd.optsWithGlobals();
  const format = resolveFormat(optionString(opts, 'format'));
  const address = optionString(opts, 'address');
  let client: CofferClient | undefined;
  return {
    format,
    client: () => (client ??= CofferClient.fromEnv(address === undefined ? {} : { address })),
  };
}

export function exitCodeFor(error: unknown): number {
  return error instanceof CofferApiError || error instanceof CofferClientError ? EXIT.remote : EXIT.local;
}

/**
 * Runs one command's action: builds the context, prints any error as `Error <doing>: ...`, and
 * sets the exit code (the action's number, 0 by default). `errorExit` replaces the error code for
 * commands whose 2 means something else (status).
 */
export async function run(
  cmd: Command,
  doing: string,
  action: (ctx: CliContext) => Promise<number | void>,
  options: { errorExit?: number } = {},
): Promise<void> {
  try {
    const code = await action(makeContext(cmd));
    process.exitCode = code ?? EXIT.ok;
  } catch (e) {
    printError(e instanceof UsageError ? '' : doing, e);
    process.exitCode = options.errorExit ?? exitCodeFor(e);
  }
}
