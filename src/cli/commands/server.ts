import type { Command } from 'commander';
import { Option } from 'commander';
import { EXIT, UsageError } from '../context.js';
import { printError, printLines } from '../output.js';

interface ServerOptions {
  config?: string;
  dev?: boolean;
  devRootToken?: string;
  devListenAddress?: string;
  devListen?: string;
  devDataDir?: string;
  logLevel?: string;
}

/** Single-quoted for a POSIX shell, so a chosen --dev-root-token pastes safely. */
const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

function devBanner(address: string, unsealKey: string, rootToken: string, dataDir: string | undefined): string {
  const where = dataDir === undefined ? 'entirely in-memory (all data is lost on exit)' : `with its data in ${dataDir}`;
  return `WARNING! dev mode is enabled! In this mode, Coffer runs
${where}, starts initialized and unsealed with a single
unseal key, listens on plain HTTP on the loopback interface only, and prints
its root token below. It is insecure by design.

You may need to set the following environment variables:

    $ export COFFER_ADDR=${shellQuote(address)}
    $ export COFFER_TOKEN=${shellQuote(rootToken)}

and, for Vault's tools (vault CLI, hvac, node-vault, Terraform):

    $ export VAULT_ADDR=${shellQuote(address)}
    $ export VAULT_TOKEN=${shellQuote(rootToken)}

The unseal key and root token are displayed below in case you want to
seal/unseal Coffer or re-authenticate.

Unseal Key: ${unsealKey}
Root Token: ${rootToken}

Development mode should NOT be used in production installations!
`;
}

async function serve(opts: ServerOptions): Promise<void> {
  if (opts.dev !== true && opts.config === undefined) throw new UsageError('Must supply --config FILE, or --dev for a development server');
  const listenAddress = opts.devListenAddress ?? opts.devListen;
  const dev =
    opts.dev === true
      ? {
          ...(opts.devRootToken === undefined ? {} : { rootToken: opts.devRootToken }),
          ...(listenAddress === undefined ? {} : { listenAddress }),
          ...(opts.devDataDir === undefined ? {} : { dataDir: opts.devDataDir }),
        }
      : undefined;
  // Loaded on demand: the client commands should not pay for the server's dependencies.
  const { startServer } = await import('../../server/start.js');
  const server = await startServer({
    ...(opts.config === undefined ? {} : { configFile: opts.config }),
    ...(dev === undefined ? {} : { dev }),
    ...(opts.logLevel === undefined ? {} : { logLevel: opts.logLevel }),
  });

  const address = server.addresses[0] ?? 'http://127.0.0.1:8200';
  printLines(`==> Coffer server started! Listening on: ${server.addresses.join(', ')}\n`);
  if (server.dev !== undefined) printLines(devBanner(address, server.dev.unsealKey, server.dev.rootToken, opts.devDataDir));

  let closing = false;
  const shutdown = (): void => {
    if (closing) process.exit(EXIT.local); // a second signal: stop waiting
    closing = true;
    printLines('==> Coffer shutdown triggered');
    server.close().then(
      () => process.exit(EXIT.ok),
      (e: unknown) => {
        printError('shutting down', e);
        process.exit(EXIT.local);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  // logrotate sends SIGHUP; audit devices reopen their files on it while unsealed. A listener
  // here keeps Node's default (exit) from killing a sealed server.
  process.on('SIGHUP', () => undefined);
}

/** `coffer server`: runs the server in this process until SIGINT/SIGTERM. */
export function registerServer(program: Command): void {
  program
    .command('server')
    .description('Run the Coffer server (--config FILE, or --dev for an in-memory, unsealed development server).')
    .option('--config <file>', 'configuration file (HCL or JSON)')
    .option('--dev', 'development mode: in-memory, initialized, unsealed, loopback only; INSECURE')
    .option('--dev-root-token <token>', 'dev mode: use this root token instead of a random one')
    .option('--dev-listen-address <addr>', 'dev mode: host:port to listen on (default 127.0.0.1:8200)')
    .addOption(new Option('--dev-listen <addr>', 'alias of --dev-listen-address').hideHelp())
    .option('--dev-data-dir <dir>', 'dev mode: keep data in this directory instead of memory')
    .option('--log-level <level>', 'log level: trace, debug, info, warn, error')
    .action(async (opts: ServerOptions) => {
      try {
        await serve(opts);
      } catch (e) {
        printError(e instanceof UsageError ? '' : 'starting the server', e);
        process.exitCode = EXIT.local;
      }
    });
}
