import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** One HTTP exchange as the client sees it; the transport knows nothing about Vault. */
export interface WireRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
}

export interface WireResponse {
  status: number;
  contentType: string;
  text: string;
  /** The Location header of a redirect. */
  location?: string;
}

export type Transport = (req: WireRequest) => Promise<WireResponse>;

export interface TlsOptions {
  /** PEM text of the CA certificate(s) to trust instead of the system store. */
  ca?: string;
  /** Skip certificate verification (tests and throwaway dev servers only). */
  insecure?: boolean;
}

/**
 * node:http / node:https with Node's keep-alive agents, whose idle sockets never hold the process
 * open. Not the global fetch: undici costs a CLI command ~50 ms to load and keeps the process
 * alive ~250 ms after the last answer (docs/benchmarks.md). Custom methods such as LIST go out as
 * written. Redirects are never followed, so X-Vault-Token is not carried to a host a redirect names.
 */
export function nodeTransport(tls: TlsOptions = {}): Transport {
  return (req) =>
    new Promise<WireResponse>((resolve, reject) => {
      const headers = req.body === undefined ? req.headers : { ...req.headers, 'Content-Length': String(Buffer.byteLength(req.body)) };
      const onResponse = (res: IncomingMessage): void => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const location = res.headers.location;
          resolve({
            status: res.statusCode ?? 0,
            contentType: res.headers['content-type'] ?? '',
            text: Buffer.concat(chunks).toString('utf8'),
            ...(location === undefined ? {} : { location }),
          });
        });
      };
      const r =
        req.url.protocol === 'https:'
          ? httpsRequest(req.url, {
            method: req.method, headers,
            ...(tls.ca === undefined ? {} : { ca: tls.ca }),
            rejectUnauthorized: tls.insecure !== true,
          }, onResponse)
          : httpRequest(req.url, { method: req.method, headers }, onResponse);
      // timeoutMs bounds the whole exchange, not only a silence on the socket.
      const timer = setTimeout(() => r.destroy(new Error(`the request timed out after ${req.timeoutMs} ms`)), req.timeoutMs);
      timer.unref();
      r.on('close', () => clearTimeout(timer));
      r.on('error', reject);
      r.end(req.body);
    });
}
