import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { registerAudit } from './commands/audit.js';
import { registerAuthMounts } from './commands/auth-mounts.js';
import { registerGeneric } from './commands/generic.js';
import { registerKv } from './commands/kv.js';
import { registerLease } from './commands/lease.js';
import { registerLogin } from './commands/login.js';
import { registerPathHelp } from './commands/path-help.js';
import { registerPolicy } from './commands/policy.js';
import { registerPolicyExplain } from './commands/policy-explain.js';
import { registerSecrets } from './commands/secrets.js';
import { registerToken } from './commands/token.js';
import { registerUnwrap } from './commands/unwrap.js';
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
 * `--address` and `--format` are accepted after the command name too: each command gets a hidden
 * copy (the program parses its own options positionally, so that `kv get --version 2` reaches
 * the command instead of printing the program's version).
 */
function shareGlobalOptions(program: Command): void {
  const globals = program.options.filter((o) => o.long === '--address' || o.long === '--format');
  const walk = (cmd: Command): void => {
    for (const sub of cmd.commands) {
      for (const g of globals) {
        if (!sub.options.some((o) => o.long === g.long)) sub.addOption(new Option(g.flags, g.description).hideHelp());
      }
      walk(sub);
    }
  };
  walk(program);
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
    .enablePositionalOptions()
    .exitOverride();
  registerServer(program);
  registerOperator(program);
  registerStatus(program);
  registerGeneric(program);
  registerAudit(program);
  registerLogin(program);
  registerKv(program);
  registerLease(program);
  registerToken(program);
  registerPolicy(program);
  registerPolicyExplain(program);
  registerSecrets(program);
  registerAuthMounts(program);
  registerUnwrap(program);
  registerPathHelp(program);
  shareGlobalOptions(program);
  return program;
}
