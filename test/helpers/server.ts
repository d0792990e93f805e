import { after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { createLogger } from '../../src/util/logger.js';
import type { ServerConfig } from '../../src/config/index.js';

export interface TestServer {
  readonly server: RunningServer;
  /** e.g. http://127.0.0.1:41234 */
  readonly addr: string;
  readonly rootToken: string;
  /** fetch against the server: `call('GET', 'sys/health')` with the root token unless `token` is given. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
}

// Registered once, at the test file's top level, so servers started inside subtests live on
// until the whole file is done (closing twice is harmless).
const running = new Set<RunningServer>();
after(async () => { for (const s of running) await s.close(); });

/** A dev server (initialized, unsealed) on a free loopback port, closed when the test file ends. */
export async function startDevServer(options: { dataDir?: string; rootToken?: string } = {}): Promise<TestServer> {
  const server = await startServer({
    dev: { listenAddress: '127.0.0.1:0', rootToken: options.rootToken ?? 'root-test-token', ...(options.dataDir ? { dataDir: options.dataDir } : {}) },
    logger: createLogger('silent'),
  });
  running.add(server);
  return wrap(server, server.dev?.rootToken ?? '');
}

/** A server from a config (not initialized), closed when the test file ends. */
export async function startConfiguredServer(config: ServerConfig): Promise<TestServer> {
  const server = await startServer({ config, logger: createLogger('silent') });
  running.add(server);
  return wrap(server, '');
}

export function sqliteConfig(path: string): ServerConfig {
  return {
    storage: { type: 'sqlite', path, synchronous: 'full' },
    listeners: [{ type: 'tcp', host: '127.0.0.1', port: 0, tls: null }],
    apiAddr: null, clusterName: 'coffer-test', ui: false,
    defaultLeaseTtlSeconds: 2_764_800, maxLeaseTtlSeconds: 2_764_800, logLevel: 'error',
  };
}

function wrap(server: RunningServer, rootToken: string): TestServer {
  const addr = server.addresses[0]!;
  return {
    server, addr, rootToken,
    call: async (method, path, body, headers = {}) => {
      const res = await fetch(`${addr}/v1/${path}`, {
        method,
        headers: { ...(rootToken && !('X-Vault-Token' in headers) ? { 'X-Vault-Token': rootToken } : {}), ...headers },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try { parsed = text ? JSON.parse(text) : undefined; } catch { /* leave as text */ }
      return { status: res.status, body: parsed };
    },
  };
}

export type CallResult = { status: number; body: any };

/** Asserts the status (204 by default) and returns the body, with the body in the failure message. */
export async function ok(r: CallResult | Promise<CallResult>, status = 204): Promise<any> {
  const res = await r;
  assert.equal(res.status, status, JSON.stringify(res.body));
  return res.body;
}

/** `root(...)` calls with the server's root token, `anon(...)` with none (logins). */
export function callers(s: TestServer): { root: (method: string, path: string, body?: unknown) => Promise<CallResult>; anon: (method: string, path: string, body?: unknown) => Promise<CallResult> } {
  return {
    root: (method, path, body) => s.call(method, path, body),
    anon: (method, path, body) => s.call(method, path, body, { 'X-Vault-Token': '' }),
  };
}
