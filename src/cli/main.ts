import { CommanderError } from 'commander';
import { knownLongFlags, normalizeVaultFlags } from './args.js';
import { EXIT } from './context.js';
import { printError } from './output.js';
import { buildProgram } from './program.js';

// The `coffer` entry point (bin/coffer.js imports the compiled copy). Exit codes are set through
// process.exitCode, never process.exit, so piped output is flushed; `server` keeps running.

const program = buildProgram();
try {
  await program.parseAsync(normalizeVaultFlags(process.argv.slice(2), knownLongFlags(program)), { from: 'user' });
} catch (e) {
  if (e instanceof CommanderError) {
    // commander has already printed the message or the help.
    process.exitCode = e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? EXIT.ok : EXIT.local;
  } else {
    printError('', e);
    process.exitCode = EXIT.local;
  }
}
