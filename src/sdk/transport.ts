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

/**
 * Node's global fetch (undici). Custom methods such as LIST go out as written. Redirects are not
 * followed: undici would carry X-Vault-Token along to whatever host a redirect names.
 */
export const fetchTransport: Transport = async (req) => {
  const res = await fetch(req.url, {
    method: req.method,
    headers: req.headers,
    ...(req.body === undefined ? {} : { body: req.body }),
    redirect: 'manual',
    signal: AbortSignal.timeout(req.timeoutMs),
  });
  const location = res.headers.get('location');
  return {
    status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text(), ...(location === null ? {} : { location }),
  };
};

export interface TlsOptions {
  /** PEM text of the CA certificate(s) to trust instead of the system store. */
  ca?: string;
  /** Skip certificate verification (tests and throwaway dev servers only). */
  insecure?: boolean;
}

/**
 * node:https, for TLS settings that fetch cannot take without the undici package's Agent (a
 * custom CA, skipping verification). Redirects are not followed either.
 */
export function tlsTransport(tls: TlsOptions): Transport {
  return (req) =>
    new Promise<WireResponse>((resolve, reject) => {
      const r = httpsRequest(
        req.url,
        {
          method: req.method,
          headers: req.body === undefined ? req.headers : { ...req.headers, 'Content-Length': String(Buffer.byteLength(req.body)) },
          ...(tls.ca === undefined ? {} : { ca: tls.ca }),
          rejectUnauthorized: tls.insecure !== true,
          timeout: req.timeoutMs,
        },
        (res) => {
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
        },
      );
      r.on('timeout', () => r.destroy(new Error(`request timed out after ${req.timeoutMs} ms`)));
      r.on('error', reject);
      r.end(req.body);
    });
}
