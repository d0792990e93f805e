import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after } from 'node:test';

/** What the fake saw: one entry per request. */
export interface SeenRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface FakeReply {
  status: number;
  body?: unknown;
}

export type FakeRoute = FakeReply | ((req: SeenRequest) => FakeReply);

export interface FakeVault {
  address: string;
  requests: SeenRequest[];
  /** Replace or add a route while running ("METHOD /v1/path"). */
  routes: Map<string, FakeRoute>;
}

/**
 * A tiny stand-in for a Vault/Coffer server, answering `"METHOD /v1/path"` routes with fixed or
 * computed replies (404 `{"errors":[]}` otherwise). Node's parser rejects LIST, so LIST cannot be
 * routed here. Closed when the test file finishes.
 */
export async function startFakeVault(routes: Record<string, FakeRoute>): Promise<FakeVault> {
  const fake: FakeVault = { address: '', requests: [], routes: new Map(Object.entries(routes)) };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const text = Buffer.concat(chunks).toString('utf8');
      const seen: SeenRequest = {
        method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, body: text === '' ? undefined : JSON.parse(text),
      };
      fake.requests.push(seen);
      const route = fake.routes.get(`${seen.method} ${seen.path}`);
      const reply = route === undefined ? { status: 404, body: { errors: [] } } : typeof route === 'function' ? route(seen) : route;
      if (reply.body === undefined) {
        res.writeHead(reply.status).end();
        return;
      }
      res.writeHead(reply.status, { 'Content-Type': 'application/json' }).end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.address = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  return fake;
}

/** Vault's response envelope around `data`. */
export function envelope(data: Record<string, unknown> | null, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { request_id: 'req-1', lease_id: '', renewable: false, lease_duration: 0, data, wrap_info: null, warnings: null, auth: null, ...extra };
}

/** A sys/seal-status body. */
export function sealStatus(sealed: boolean, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'shamir', initialized: true, sealed, t: 3, n: 5, progress: sealed ? 1 : 0, nonce: sealed ? 'nonce-1' : '',
    version: '0.1.0', build_date: '2025-01-01T00:00:00Z', migration: false, recovery_seal: false, storage_type: 'inmem', ...extra,
  };
}
