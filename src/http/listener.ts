/**
 * The TCP/TLS listener. It owns the net/tls server and feeds each accepted connection, wrapped
 * so that LIST requests get through Node's parser (see list-method.ts), into a plain
 * http.Server that never listens itself.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { ListMethodSocket, usesListIncomingMessage } from './list-method.js';

export interface ListenOptions {
  readonly host: string;
  readonly port: number;
  /** PEM certificate chain and private key; TLS 1.2 is the minimum. */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
}

export interface Listening {
  readonly address: AddressInfo;
  /** Stops accepting, closes idle keep-alive connections, lets in-flight responses finish with `Connection: close`. */
  close(): Promise<void>;
}

// Listeners per http.Server, so only the last close() stops the server's connection tracking.
const listenerCounts = new WeakMap<http.Server, number>();

/**
 * Listens on host:port and hands connections to `httpServer` (create it with createListServer).
 * Accept errors are re-emitted as 'error' on `httpServer`, TLS handshake failures as 'tlsClientError'.
 *
 * @example
 * const listening = await listen(createListServer(handler), { host: '127.0.0.1', port: 8200 });
 * await listening.close();
 */
export async function listen(httpServer: http.Server, opts: ListenOptions): Promise<Listening> {
  if (httpServer.listening) throw new TypeError('listen() needs an http.Server that does not listen itself');
  // Node stores these ServerOptions on the server; @types/node does not declare them.
  if (Reflect.get(httpServer, 'insecureHTTPParser') === true) {
    throw new TypeError('listen() refuses insecureHTTPParser: the LIST tracker follows the strict parser');
  }
  if (usesListIncomingMessage(httpServer) === false) {
    throw new TypeError('listen() needs a server from createListServer(), or LIST requests would reach it as LOCK');
  }
  // The tracker must never give up before Node's own header-size limit would.
  const configured: unknown = Reflect.get(httpServer, 'maxHeaderSize');
  const maxHeaderSize = typeof configured === 'number' && configured > 0 ? configured : http.maxHeaderSize;
  const maxSectionBytes = Math.max(64 * 1024, 4 * maxHeaderSize);

  const connections = new Set<ListMethodSocket>();
  let closing = false;

  const accept = (raw: net.Socket): void => {
    if (closing) {
      raw.destroy();
      return;
    }
    const socket = new ListMethodSocket(raw, { maxSectionBytes });
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
    httpServer.emit('connection', socket);
  };

  // TLS connections still handshaking are not in `connections`; close() ends them itself
  // instead of waiting out the handshake timeout.
  const handshaking = new Map<string, net.Socket>();
  const peerKey = (s: net.Socket): string => `${s.remoteAddress}|${s.remotePort}|${s.localAddress}|${s.localPort}`;

  let server: net.Server;
  if (opts.tls !== undefined) {
    const tlsServer = tls.createServer({
      cert: opts.tls.cert,
      key: opts.tls.key,
      minVersion: 'TLSv1.2',
      ALPNProtocols: ['http/1.1'],
      allowHalfOpen: true,
      noDelay: true,
    });
    tlsServer.on('connection', (raw: net.Socket) => {
      const key = peerKey(raw);
      handshaking.set(key, raw);
      raw.once('close', () => {
        if (handshaking.get(key) === raw) handshaking.delete(key);
      });
    });
    tlsServer.on('secureConnection', (secure: tls.TLSSocket) => {
      handshaking.delete(peerKey(secure));
      accept(secure);
    });
    tlsServer.on('tlsClientError', (error: Error, secure: tls.TLSSocket) => {
      httpServer.emit('tlsClientError', error, secure);
    });
    server = tlsServer;
  } else {
    // Same socket options Node's http.Server would use.
    server = net.createServer({ allowHalfOpen: true, noDelay: true }, accept);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.host, port: opts.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error: Error) => httpServer.emit('error', error));

  // http.Server starts its connection tracking (headersTimeout, requestTimeout,
  // closeIdleConnections) on 'listening'; it never listens itself, so tell it.
  listenerCounts.set(httpServer, (listenerCounts.get(httpServer) ?? 0) + 1);
  httpServer.emit('listening');

  const address = server.address();
  if (address === null || typeof address === 'string') throw new TypeError('expected a TCP address');

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      closing = true;
      // The callback runs once every accepted connection has closed.
      server.close(() => {
        const remaining = (listenerCounts.get(httpServer) ?? 1) - 1;
        listenerCounts.set(httpServer, remaining);
        // Last listener gone: stop http.Server's connection-checking interval.
        if (remaining === 0) httpServer.close();
        resolve();
      });
      for (const raw of handshaking.values()) raw.destroy();
      handshaking.clear();
      // Connections whose tracker gave up are closed by Node's own idle check (which covers
      // every connection of `httpServer`, but only idle ones).
      let sweepQueued = false;
      const sweepUntracked = (): void => {
        if (sweepQueued) return;
        sweepQueued = true;
        setImmediate(() => {
          sweepQueued = false;
          httpServer.closeIdleConnections();
        });
      };
      for (const socket of connections) socket.closeWhenIdle(sweepUntracked);
    });
    return closed;
  };

  return { address, close };
}
