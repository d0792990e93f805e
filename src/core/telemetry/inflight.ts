import { randomUUID } from 'node:crypto';
import { wallClock } from './timer.js';

/** What the tracker reads of a request, only when asked for a snapshot (an http.IncomingMessage fits). */
export interface TrackedRequest {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly socket: { readonly remoteAddress?: string | undefined; readonly remotePort?: number | undefined } | null;
}

/** The response side: the tracker forgets a request when its response closes (sent or aborted). */
export interface TrackedResponse<R> {
  readonly req: R;
  on(event: 'close', listener: (this: TrackedResponse<R>) => void): unknown;
}

/** One entry of sys/in-flight-req, as Vault shapes it. */
export interface InFlightEntry {
  start_time: string;
  client_remote_address: string;
  request_path: string;
  request_method: string;
  client_id: string;
}

/**
 * The requests being served, for sys/in-flight-req and the `vault.core.in_flight_requests` gauge.
 * Begun when a request's headers arrive (before its body, as Vault), ended when its response
 * closes. Per request: one Map entry holding the start time and one shared 'close' listener; ids,
 * paths and addresses are only worked out when a snapshot is taken.
 */
export class InFlightRequests<R extends TrackedRequest = TrackedRequest> {
  readonly #started = new Map<R, number>();
  /** The few requests that arrived as LIST (the router sees them as LOCK by the time of a snapshot). */
  readonly #lists = new Set<R>();
  /** Ids are given out lazily, on the first snapshot that shows a request, and stay the same after. */
  readonly #ids = new WeakMap<R, string>();
  readonly #onClose: (this: TrackedResponse<R>) => void;

  constructor() {
    const started = this.#started;
    const lists = this.#lists;
    this.#onClose = function onClose(this: TrackedResponse<R>): void {
      started.delete(this.req);
      lists.delete(this.req);
    };
  }

  /** Starts tracking `req` at performance.now() `now`. */
  begin(req: R, res: TrackedResponse<R>, now: number, isList: boolean): void {
    this.#started.set(req, now);
    if (isList) this.#lists.add(req);
    res.on('close', this.#onClose);
  }

  /** performance.now() when `req` arrived, while it is in flight. */
  startOf(req: R): number | undefined {
    return this.#started.get(req);
  }

  get size(): number {
    return this.#started.size;
  }

  /** Request id → entry. Never a query string (it may carry secrets); `client_id` is not known at this layer. */
  snapshot(): Record<string, InFlightEntry> {
    const out: Record<string, InFlightEntry> = {};
    for (const [req, start] of this.#started) {
      let id = this.#ids.get(req);
      if (id === undefined) {
        id = randomUUID();
        this.#ids.set(req, id);
      }
      out[id] = {
        start_time: new Date(wallClock(start)).toISOString(),
        client_remote_address: remoteAddress(req),
        request_path: pathOf(req.url ?? ''),
        request_method: this.#lists.has(req) ? 'LIST' : req.method ?? '',
        client_id: '',
      };
    }
    return out;
  }
}

/** Go's net/http RemoteAddr form: `host:port`, `[v6]:port`; IPv4-mapped IPv6 shown as IPv4. */
function remoteAddress(req: TrackedRequest): string {
  const raw = req.socket?.remoteAddress ?? '';
  const host = raw.startsWith('::ffff:') && raw.includes('.') ? raw.slice(7) : raw;
  const port = req.socket?.remotePort;
  if (port === undefined) return host;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** As Go's URL.Path: the path without the query, percent-decoded (kept as sent when it does not decode). */
function pathOf(url: string): string {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
