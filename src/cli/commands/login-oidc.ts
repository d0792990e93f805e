import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CofferClientError } from '../../sdk/index.js';
import type { CofferClient, Secret } from '../../sdk/index.js';
import { parseKvArgs } from '../args.js';
import { UsageError } from '../context.js';
import { printNotice } from '../output.js';

/** `coffer login --method oidc` settings, Vault CLI's names (k=v arguments). */
export interface OidcLoginOptions {
  readonly mount: string;
  readonly role?: string;
  /** Where the loopback listener binds (default localhost). */
  readonly listenAddress?: string;
  /** Its port (default 8250; 0 picks a free one). */
  readonly port?: number;
  /** How the provider's redirect reaches the listener (default http://localhost:<port>). */
  readonly callbackMethod?: string;
  readonly callbackHost?: string;
  readonly callbackPort?: number;
  /** Do not try to open a browser; the URL is printed either way. */
  readonly skipBrowser?: boolean;
  /** How long to wait for the browser to come back (default 5 minutes). */
  readonly timeoutMs?: number;
  /** Opens the URL (tests replace it; default: xdg-open / open / start). */
  readonly openBrowser?: (url: string) => void;
}

const CALLBACK_PATH = '/oidc/callback';
const page = (title: string, text: string): string =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1><p>${text}</p></body></html>`;

/** The k=v arguments of `coffer login --method oidc` (role=, listenaddress=, port=, callbackhost=, ...). */
export async function oidcOptionsFromArgs(mount: string, args: readonly string[]): Promise<OidcLoginOptions> {
  const kv = await parseKvArgs(args);
  const text = (key: string): string | undefined => {
    const v = kv[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw new UsageError(`${key} must be given once`);
    return v;
  };
  const port = (key: string): number | undefined => {
    const v = text(key);
    if (v === undefined) return undefined;
    if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) throw new UsageError(`${key} must be a port number`);
    return Number(v);
  };
  const role = text('role');
  const listenAddress = text('listenaddress');
  const p = port('port');
  const callbackMethod = text('callbackmethod');
  const callbackHost = text('callbackhost');
  const callbackPort = port('callbackport');
  return {
    mount,
    ...(role === undefined ? {} : { role }),
    ...(listenAddress === undefined ? {} : { listenAddress }),
    ...(p === undefined ? {} : { port: p }),
    ...(callbackMethod === undefined ? {} : { callbackMethod }),
    ...(callbackHost === undefined ? {} : { callbackHost }),
    ...(callbackPort === undefined ? {} : { callbackPort }),
    skipBrowser: ['true', '1'].includes((text('skip_browser') ?? '').toLowerCase()),
  };
}

/** Best effort: the URL is printed anyway, so a missing opener is not an error. */
function defaultOpener(url: string): void {
  const [cmd, args] = process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url]] : ['xdg-open', [url]];
  try {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // no opener here
  }
}

/**
 * The browser flow of `coffer login --method oidc`, as Vault's CLI: a listener on a loopback
 * port, auth_url with that redirect URI and a client nonce, the browser sent to the provider,
 * and the provider's redirect (state + code) passed to oidc/callback, which answers the token.
 */
export async function oidcLogin(client: CofferClient, options: OidcLoginOptions): Promise<Secret> {
  const mount = options.mount.replace(/^\/+|\/+$/g, '');
  const clientNonce = randomBytes(20).toString('base64url');
  const anonymous = client.withToken(undefined);
  let settle: { resolve: (s: Secret) => void; reject: (e: unknown) => void } | undefined;
  const done = new Promise<Secret>((resolve, reject) => { settle = { resolve, reject }; });

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://callback.invalid');
    if (req.method !== 'GET' || url.pathname !== CALLBACK_PATH) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const query: Record<string, string> = { client_nonce: clientNonce };
    for (const key of ['state', 'code', 'id_token', 'error', 'error_description']) {
      const v = url.searchParams.get(key);
      if (v !== null) query[key] = v;
    }
    anonymous.request('GET', `auth/${mount}/oidc/callback`, undefined, { query })
      .then((r) => {
        const secret = anonymous.parseSecret(r.body, `GET auth/${mount}/oidc/callback`);
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page('Signed in', 'Signed in via your OIDC provider. You can close this window and return to the terminal.'));
        settle?.resolve(secret);
      })
      .catch((e: unknown) => {
        res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' }).end(page('Login failed', 'The login failed; see the terminal for details.'));
        settle?.reject(e);
      });
  });
  const listenAddress = options.listenAddress ?? 'localhost';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8250, listenAddress, () => resolve());
  });
  try {
    const port = (server.address() as AddressInfo).port;
    const redirectUri = `${options.callbackMethod ?? 'http'}://${options.callbackHost ?? 'localhost'}:${options.callbackPort ?? port}${CALLBACK_PATH}`;
    const started = await anonymous.request('POST', `auth/${mount}/oidc/auth_url`, { role: options.role ?? '', redirect_uri: redirectUri, client_nonce: clientNonce });
    const authUrl = anonymous.parseSecret(started.body, `POST auth/${mount}/oidc/auth_url`).data?.['auth_url'];
    if (typeof authUrl !== 'string' || authUrl === '') {
      throw new CofferClientError(`Unable to authorize role ${JSON.stringify(options.role ?? '')} with redirect_uri ${JSON.stringify(redirectUri)}. Check the server's role configuration (allowed_redirect_uris).`);
    }
    printNotice(`Complete the login via your OIDC provider. ${options.skipBrowser ? 'Open this URL in your browser:' : 'Launching browser to:'}\n\n    ${authUrl}\n\nWaiting for OIDC authentication to complete...`);
    if (!options.skipBrowser) (options.openBrowser ?? defaultOpener)(authUrl);
    const timeoutMs = options.timeoutMs ?? 5 * 60_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CofferClientError(`no answer from the OIDC provider within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
    });
    try {
      return await Promise.race([done, timeout]);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    server.closeIdleConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
