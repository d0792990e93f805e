import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { registerAudit } from './commands/audit.js';
import { registerGeneric } from './commands/generic.js';
import { registerOperator } from './commands/operator.js';
import { registerServer } from './commands/server.js';
import { registerStatus } from './commands/status.js';

/** package.json sits two levels up from both src/cli/ and dist/cli/. */
function version(): string {
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    if (typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string') return pkg.version;
  } catch {
    // fall through
  }
  return 'unknown';
}

/**
 * The `coffer` command tree. Global options are declared once here and accepted before or after
 * the subcommand. exitOverride is set before the subcommands are added so they inherit it and
 * usage errors come back to main as exceptions instead of exiting.
 */
export function buildProgram(): Command {
  const program = new Command('coffer')
    .description('Coffer: a secret manager that speaks the Vault HTTP API.')
    .version(version(), '--version', 'print the version')
    .addOption(new Option('--address <url>', 'server address (overrides COFFER_ADDR / VAULT_ADDR)'))
    .addOption(new Option('--format <format>', 'output format: table or json (default: COFFER_FORMAT, else table)'))
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ showGlobalOptions: true })
    .exitOverride();
  registerServer(program);
  registerOperator(program);
  registerStatus(program);
  registerGeneric(program);
  registerAudit(program);
  return program;
}
