import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { invalid } from '../../util/errors.js';

/** Discovery documents and key sets are small; anything bigger is refused, not buffered. */
export const MAX_DOCUMENT_BYTES = 512 * 1024;
const TIMEOUT_MS = 10_000;

/** localhost, 127.0.0.0/8 and ::1: the only hosts plain http may reach. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/**
 * SECURITY rule 7 for URLs a user configures (discovery, JWKS, the provider's endpoints):
 * https, or http to a loopback address only; no credentials in the URL; no fragment.
 */
export function checkOutboundUrl(raw: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid(`${what} is not a valid URL`);
  }
  if (url.username !== '' || url.password !== '') throw invalid(`${what} must not contain credentials`);
  if (url.hash !== '') throw invalid(`${what} must not contain a fragment`);
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return url;
  throw invalid(`${what} must use https (plain http is allowed only to a loopback address)`);
}

export interface OutboundRequest {
  readonly method?: 'GET' | 'POST';
  /** Form-encoded body for POST. */
  readonly form?: Readonly<Record<string, string>>;
  readonly headers?: Readonly<Record<string, string>>;
  /** CA certificates (PEM) to trust instead of the system's. */
  readonly caPem?: string;
  readonly maxBytes?: number;
  readonly timeoutMs?: number;
}

export interface OutboundResponse {
  readonly status: number;
  readonly json: unknown;
}

/**
 * One bounded HTTP(S) exchange that answers JSON: a timeout for the whole exchange, a size cap
 * on the body, and no redirects (a 3xx is an error, never followed). Errors name the URL's
 * origin and the problem, never a body or a credential.
 */
export function fetchJson(rawUrl: string, what: string, req: OutboundRequest = {}): Promise<OutboundResponse> {
  const url = checkOutboundUrl(rawUrl, what);
  const body = req.form ? new URLSearchParams(req.form).toString() : undefined;
  const maxBytes = req.maxBytes ?? MAX_DOCUMENT_BYTES;
  const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
  if (body !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const origin = `${url.protocol}//${url.host}`;
  return new Promise((resolve, reject) => {
    const fail = (problem: string): void => reject(invalid(`${what} (${origin}): ${problem}`));
    const r = send(url, {
      method: req.method ?? 'GET', headers, signal: AbortSignal.timeout(req.timeoutMs ?? TIMEOUT_MS),
      ...(req.caPem && url.protocol === 'https:' ? { ca: req.caPem } : {}),
    }, (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400) {
        res.resume();
        return fail(`answered a redirect (${status}); redirects are not followed`);
      }
      const declared = Number(res.headers['content-length'] ?? '0');
      if (declared > maxBytes) {
        res.destroy();
        return fail(`answer larger than ${maxBytes} bytes`);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          res.destroy();
          fail(`answer larger than ${maxBytes} bytes`);
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', () => fail('connection failed while reading the answer'));
      res.on('end', () => {
        if (size > maxBytes) return;
        let json: unknown;
        try {
          json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          return fail(`answered ${status} with a body that is not JSON`);
        }
        resolve({ status, json });
      });
    });
    r.on('error', (e: Error) => fail(e.name === 'AbortError' || e.name === 'TimeoutError' ? 'timed out' : 'connection failed'));
    if (body !== undefined) r.write(body);
    r.end();
  });
}
