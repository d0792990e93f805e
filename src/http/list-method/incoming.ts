/**
 * The request side of LIST support: an http.IncomingMessage that turns each rewritten LOCK back
 * into LIST, and the server helpers built on it.
 */
import http from 'node:http';
import { ListMethodSocket } from './socket.js';

const kMethod = Symbol('method');
const kWasList = Symbol('wasList');

/**
 * http.IncomingMessage whose `method` is `LIST` for requests that arrived as LIST. Node's parser
 * assigns `method` once per parsed request, in wire order, so each parsed LOCK consumes exactly
 * one rewrite from its connection; a LOCK with none left was genuine and stays `LOCK`.
 */
export class ListMethodIncomingMessage extends http.IncomingMessage {
  declare [kMethod]: string | null | undefined;
  declare [kWasList]: boolean | undefined;
}

Object.defineProperty(ListMethodIncomingMessage.prototype, 'method', {
  configurable: true,
  enumerable: true,
  get(this: ListMethodIncomingMessage): string | null | undefined {
    return this[kMethod];
  },
  set(this: ListMethodIncomingMessage, value: string | null | undefined) {
    // Only the parser's assignment (the first non-null one) is translated.
    if (value === 'LOCK' && (this[kMethod] ?? null) === null) {
      const socket: unknown = this.socket;
      if (socket instanceof ListMethodSocket && socket.takeListRewrite()) {
        this[kWasList] = true;
        value = 'LIST';
      }
    }
    this[kMethod] = value;
  },
});

/** True if the request arrived on the wire as `LIST` (whatever `method` says now). */
export function isListRequest(request: http.IncomingMessage): boolean {
  return request instanceof ListMethodIncomingMessage && request[kWasList] === true;
}

/**
 * An http.Server whose requests see `LIST` for LIST requests when fed connections by
 * `listen()` (src/http/listener.ts). `options.IncomingMessage`, if given, must extend
 * ListMethodIncomingMessage.
 *
 * @example
 * const server = createListServer((req, res) => res.end(req.method)); // 'LIST'
 */
export function createListServer(listener?: http.RequestListener, options: http.ServerOptions = {}): http.Server {
  const custom = options.IncomingMessage;
  if (custom !== undefined && custom !== ListMethodIncomingMessage && !(custom.prototype instanceof ListMethodIncomingMessage)) {
    throw new TypeError('createListServer: options.IncomingMessage must extend ListMethodIncomingMessage');
  }
  const server: http.Server = http.createServer({ ...options, IncomingMessage: custom ?? ListMethodIncomingMessage });
  if (listener !== undefined) server.on('request', listener);
  return server;
}

/**
 * Fastify (find-my-way) only routes methods in http.METHODS, which has no LIST. This presents a
 * LIST request to `listener` as `LOCK`; tell the two apart with `isListRequest(req)`.
 *
 * @example
 * Fastify({ serverFactory: (handler) => createListServer(routeListAsLock(handler)) })
 */
export function routeListAsLock(listener: http.RequestListener): http.RequestListener {
  return (request, response) => {
    if (isListRequest(request)) request.method = 'LOCK';
    listener(request, response);
  };
}

/** True if `server` creates ListMethodIncomingMessage requests (Node keeps the class under a symbol). */
export function usesListIncomingMessage(server: http.Server): boolean | undefined {
  for (const symbol of Object.getOwnPropertySymbols(server)) {
    if (symbol.description !== 'IncomingMessage') continue;
    const value: unknown = Reflect.get(server, symbol);
    return value === ListMethodIncomingMessage || (typeof value === 'function' && value.prototype instanceof ListMethodIncomingMessage);
  }
  return undefined;
}
