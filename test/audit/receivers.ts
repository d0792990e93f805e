import { createSocket } from 'node:dgram';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after } from 'node:test';
import { eventually } from './device-contract.js';

// Real receivers for the network devices, closed when the test file ends.

const closers: Array<() => Promise<void>> = [];
after(async () => { for (const c of closers.splice(0)) await c(); });

export interface Receiver {
  /** Everything received so far, as one string (stream) or one string per datagram/POST body. */
  readonly chunks: string[];
  readonly port: number;
  /** Waits (bounded) for at least n items as split by `split`. */
  lines(n: number, split?: (all: string[]) => string[]): Promise<string[]>;
  close(): Promise<void>;
}

const newlineSplit = (chunks: string[]): string[] => {
  const text = chunks.join('');
  const parts = text.split('\n');
  parts.pop();
  return parts;
};

function receiver(chunks: string[], port: number, close: () => Promise<void>, defaultSplit: (all: string[]) => string[]): Receiver {
  let closed = false;
  const once = async (): Promise<void> => { if (!closed) { closed = true; await close(); } };
  closers.push(once);
  return {
    chunks, port, close: once,
    lines: (n, split = defaultSplit) => eventually(() => split(chunks), (l) => l.length >= n),
  };
}

/** A TCP (or unix, with `path`) listener that records every byte it gets. */
export async function streamReceiver(path?: string): Promise<Receiver & { sockets: Set<Socket>; server: Server }> {
  const chunks: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.setEncoding('utf8');
    s.on('data', (d: string) => chunks.push(d));
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => (path ? server.listen(path, resolve) : server.listen(0, '127.0.0.1', resolve)));
  const port = path ? 0 : (server.address() as AddressInfo).port;
  const r = receiver(chunks, port, async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }, newlineSplit);
  return { ...r, sockets, server };
}

export async function udpReceiver(): Promise<Receiver> {
  const chunks: string[] = [];
  const socket = createSocket('udp4');
  socket.on('message', (m) => chunks.push(m.toString('utf8')));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  return receiver(chunks, port, () => new Promise<void>((resolve) => socket.close(() => resolve())), (c) => [...c]);
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface HttpReceiver extends Receiver {
  /** Status to answer with; 200 by default. */
  status: number;
  readonly requests: Array<{ headers: Record<string, string | string[] | undefined>; body: string }>;
  readonly url: string;
}

/** An HTTP endpoint that records POST bodies and answers `status` (set it to 503 to fail it). */
export async function httpReceiver(): Promise<HttpReceiver> {
  const chunks: string[] = [];
  const requests: HttpReceiver['requests'] = [];
  const state = { status: 200 };
  const server = createHttpServer((req, res) => {
    const body: Buffer[] = [];
    req.on('data', (c: Buffer) => body.push(c));
    req.on('end', () => {
      const text = Buffer.concat(body).toString('utf8');
      const status = state.status;
      if (status >= 200 && status < 300) {
        chunks.push(text);
        requests.push({ headers: req.headers, body: text });
      }
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const r = receiver(chunks, port, async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }, newlineSplit);
  return Object.assign(state, { ...r, requests, url: `http://127.0.0.1:${port}/ingest` }) as HttpReceiver;
}

/** The MSG part of RFC 5424 messages, from octet-counted (RFC 6587) TCP frames. */
export function octetCountedMessages(chunks: string[]): string[] {
  const buf = Buffer.from(chunks.join(''), 'utf8');
  const out: string[] = [];
  let i = 0;
  while (i < buf.length) {
    const space = buf.indexOf(0x20, i);
    if (space < 0) break;
    const len = Number(buf.subarray(i, space).toString('ascii'));
    if (!Number.isInteger(len) || space + 1 + len > buf.length) break;
    out.push(buf.subarray(space + 1, space + 1 + len).toString('utf8'));
    i = space + 1 + len;
  }
  return out;
}

/** Splits `<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG` into its parts. */
export function parseRfc5424(message: string): { pri: number; version: string; timestamp: string; host: string; app: string; procid: string; msgid: string; sd: string; msg: string } {
  const m = /^<(\d{1,3})>(\d) (\S+) (\S+) (\S+) (\S+) (\S+) (-|\[.*?\]) (.*)$/s.exec(message);
  if (!m) throw new Error(`not an RFC 5424 message: ${message.slice(0, 80)}`);
  return { pri: Number(m[1]), version: m[2]!, timestamp: m[3]!, host: m[4]!, app: m[5]!, procid: m[6]!, msgid: m[7]!, sd: m[8]!, msg: m[9]! };
}
