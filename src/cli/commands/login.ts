import { chmodSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { CofferClientError, TOKEN_FILE_NAME } from '../../sdk/index.js';
import type { CofferClient, Secret } from '../../sdk/index.js';
import { parseKvArgs } from '../args.js';
import { EXIT, UsageError, run } from '../context.js';
import type { CliContext } from '../context.js';
import { printNotice } from '../output.js';
import { promptSecret } from '../prompt.js';
import { oidcLogin, oidcOptionsFromArgs } from './login-oidc.js';
import { fieldOption, printField, printLine, printSecret, rawField } from './secret-output.js';

interface LoginOptions {
  method: string;
  path?: string;
  store: boolean;
  print: boolean;
  tokenOnly?: boolean;
  field?: string;
}

/** Methods whose login path carries the user name (`auth/<mount>/login/<username>`), as in Vault. */
const USERNAME_IN_PATH = new Set(['userpass', 'ldap', 'okta', 'radius']);

/** Where `coffer login` keeps the token: `~/.coffer-token` (HOME as the SDK reads it). */
export function tokenFilePath(env: NodeJS.ProcessEnv = process.env): string {
  const home = (env['HOME'] || undefined) ?? (env['USERPROFILE'] || undefined) ?? homedir();
  return join(home, TOKEN_FILE_NAME);
}

/** Writes the token file readable by its owner only; replaced in one rename, so never half-written or briefly world-readable. */
export function storeToken(token: string, path: string = tokenFilePath()): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, token, { mode: 0o600, flag: 'wx' });
    chmodSync(tmp, 0o600);
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing was left behind
    }
    throw e;
  }
}

/** Vault's token method: the token from the argument, `-` (stdin) or a hidden prompt, checked with lookup-self. */
async function tokenLogin(client: CofferClient, args: readonly string[]): Promise<Secret> {
  const rest = [...args];
  const first = rest[0];
  if (first !== undefined && !first.includes('=')) rest[0] = `token=${first}`;
  const config = await parseKvArgs(rest);
  const given = config['token'];
  if (given !== undefined && typeof given !== 'string') throw new UsageError('token must be given once');
  const token = (given ?? (await promptSecret('Token (will be hidden): '))).trim();
  if (token === '') throw new UsageError('a token must be passed to auth, please view the help for more information');
  if (config['lookup'] === 'false') return { request_id: '', lease_id: '', renewable: false, lease_duration: 0, data: null, wrap_info: null, warnings: null, auth: authOf(token) };
  const looked = await client.withToken(token).token.lookupSelf();
  const d = looked.data ?? {};
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  const tokenPolicies = strings(d['policies']);
  const identityPolicies = strings(d['identity_policies']);
  const meta = typeof d['meta'] === 'object' && d['meta'] !== null ? (d['meta'] as Record<string, string>) : null;
  // lookup-self answers in `data`; shown as the `auth` of a login, as the Vault CLI does.
  return {
    ...looked,
    data: null,
    auth: {
      ...authOf(typeof d['id'] === 'string' && d['id'] !== '' ? d['id'] : token),
      accessor: typeof d['accessor'] === 'string' ? d['accessor'] : '',
      policies: [...new Set([...tokenPolicies, ...identityPolicies])].sort(),
      token_policies: tokenPolicies,
      identity_policies: identityPolicies,
      metadata: meta,
      lease_duration: typeof d['ttl'] === 'number' ? d['ttl'] : 0,
      renewable: d['renewable'] === true,
    },
  };
}

function authOf(token: string): NonNullable<Secret['auth']> {
  return {
    client_token: token, accessor: '', policies: null, token_policies: null, metadata: null, lease_duration: 0, renewable: false, entity_id: '',
    token_type: '', orphan: false,
  };
}

/** Any other method: POST auth/<path>/login[/<username>] with the k=v pairs; a missing password is prompted for. */
async function methodLogin(client: CofferClient, method: string, mount: string, args: readonly string[]): Promise<Secret> {
  const config = await parseKvArgs(args);
  let username: string | undefined;
  if (USERNAME_IN_PATH.has(method)) {
    const u = config['username'];
    if (typeof u !== 'string' || u === '') throw new UsageError("'username' must be specified");
    username = u;
    delete config['username'];
    if (config['password'] === undefined) config['password'] = await promptSecret('Password (will be hidden): ');
  }
  return client.auth.login(mount, config, username === undefined ? {} : { username });
}

const SUCCESS = `Success! You are now authenticated. The token information displayed below
is already stored in the token helper. You do NOT need to run "coffer login"
again. Future Coffer requests will automatically use this token.
`;

async function login(ctx: CliContext, args: string[], opts: LoginOptions): Promise<number> {
  const method = opts.method.trim().replace(/^\/+|\/+$/g, '') || 'token';
  const store = opts.store && opts.tokenOnly !== true;
  const field = opts.tokenOnly === true ? 'token' : opts.field;
  if (!store && !opts.print) throw new UsageError('--no-store and --no-print cannot be used together');
  const client = ctx.client();
  const secret =
    method === 'token' ? await tokenLogin(client, args)
      : method === 'oidc' ? await oidcLogin(client, await oidcOptionsFromArgs(opts.path?.trim() || method, args))
      : await methodLogin(client, method, opts.path?.trim() || method, args);
  const token = secret.auth?.client_token;
  if (token === undefined || token === '') throw new CofferClientError('the server returned a response without authentication information');

  if (store) {
    try {
      storeToken(token);
    } catch (e) {
      printNotice(`Error storing token: ${e instanceof Error ? e.message : String(e)}\nAuthentication was successful, but the token was not persisted. The resulting token is shown below for your records.\n`);
      printSecret(ctx, secret);
      return EXIT.remote;
    }
    for (const name of ['COFFER_TOKEN', 'VAULT_TOKEN']) {
      if (process.env[name]) {
        printNotice(`WARNING! The ${name} environment variable is set! Its value will take precedence over the\nstored token; if this is unwanted please unset ${name} or update its value accordingly.\n`);
        break;
      }
    }
  } else if (opts.tokenOnly !== true) {
    printNotice('The token was not stored in the token helper. Set the COFFER_TOKEN environment variable or pass\nthe token below with each request to Coffer.\n');
  }
  if (!opts.print) return EXIT.ok;
  if (field !== undefined) return printField(ctx, rawField(secret, field), field);
  if (ctx.format === 'table') printLine(store ? SUCCESS : 'Success! You are now authenticated.\n');
  printSecret(ctx, secret);
  return EXIT.ok;
}

/** `coffer login [TOKEN | -]`, `coffer login --method userpass username=U`, ... */
export function registerLogin(program: Command): void {
  program
    .command('login')
    .description('Authenticate and keep the token in ~/.coffer-token (mode 0600) for later commands.')
    .argument('[args...]', 'token method: TOKEN or - (stdin), else prompted; other methods: key=value credentials')
    .addOption(new Option('--method <type>', 'auth method type: token, userpass, approle, jwt, oidc (browser flow on a loopback port), ...').default('token'))
    .option('--path <mount>', 'where the method is mounted (default: its type)')
    .option('--no-store', 'do not keep the token in ~/.coffer-token; only print it')
    .option('--no-print', 'do not print the token (it is still stored)')
    .option('--token-only', 'print only the token (same as --field token --no-store)')
    .addOption(fieldOption())
    .action(async (args: string[], opts: LoginOptions, cmd: Command) => run(cmd, 'authenticating', async (ctx) => login(ctx, args, opts)));
}
