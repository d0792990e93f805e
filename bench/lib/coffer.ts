import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startProcess, type Server } from './proc.js';

export const BIN = join(import.meta.dirname, '..', '..', 'bin', 'coffer.js');

export interface Coffer extends Server {
  readonly addr: string;
  readonly token: string;
  call(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: unknown }>;
}

/** Calls the server's API with `token` unless another is given per call. */
export function client(addr: string, token: string) {
  return async (method: string, path: string, body?: unknown, tok = token): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(`${addr}/v1/${path}`, { method, headers: { 'X-Vault-Token': tok }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
}

const healthy = (addr: string) => async () => (await fetch(`${addr}/v1/sys/health?uninitcode=200&sealedcode=200`)).status === 200;

/** The built dev server (in-memory), root token `bench-root`. */
export async function startDev(): Promise<Coffer> {
  const port = await freePort();
  const addr = `http://127.0.0.1:${port}`;
  const server = await startProcess([BIN, 'server', '--dev', '--dev-listen-address', `127.0.0.1:${port}`, '--dev-root-token', 'bench-root', '--log-level', 'error'], port, healthy(addr));
  return { ...server, addr, token: 'bench-root', call: client(addr, 'bench-root') };
}

/** A real (non-dev) server on SQLite with the given `synchronous`, initialized 1/1, unsealed, KV v2 at secret/. */
export async function startSqlite(synchronous: 'full' | 'normal'): Promise<Coffer> {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-bench-'));
  const port = await freePort();
  const addr = `http://127.0.0.1:${port}`;
  const config = join(dir, 'coffer.hcl');
  writeFileSync(config, `storage "sqlite" {\n  path = "${join(dir, 'coffer.db')}"\n  synchronous = "${synchronous}"\n}\nlistener "tcp" {\n  address = "127.0.0.1:${port}"\n  tls_disable = true\n}\nlog_level = "error"\n`);
  const started = await startProcess([BIN, 'server', '--config', config], port, healthy(addr));
  // The store goes with the server: a bench must not leave its files behind.
  const server = { ...started, stop: async () => { await started.stop(); rmSync(dir, { recursive: true, force: true }); } };
  const anon = client(addr, '');
  const init = await anon('PUT', 'sys/init', { secret_shares: 1, secret_threshold: 1 });
  const { keys_base64: keys, root_token: token } = init.body as { keys_base64: string[]; root_token: string };
  await anon('PUT', 'sys/unseal', { key: keys[0] });
  const call = client(addr, token);
  await call('POST', 'sys/mounts/secret', { type: 'kv', options: { version: '2' } });
  return { ...server, addr, token, call };
}
