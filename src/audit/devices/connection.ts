import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, isIP, type Socket } from 'node:net';
import { invalid } from '../../util/errors.js';

export type StreamTarget = { readonly kind: 'tcp'; readonly host: string; readonly port: number } | { readonly kind: 'unix'; readonly path: string };

/** "host:port" or "[v6]:port". */
export function parseHostPort(address: string, option = 'address'): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(address.trim());
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!m || host === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw invalid(`${option} must be host:port, got ${JSON.stringify(address)}`);
  }
  return { host, port };
}

export function describeTarget(t: StreamTarget): string {
  return t.kind === 'unix' ? t.path : `${t.host}:${t.port}`;
}

const COOLDOWN_MIN_MS = 250;
const COOLDOWN_MAX_MS = 5000;

/**
 * A long-lived TCP or unix stream connection that reconnects on the next write after it broke.
 * A write that does not reach the kernel within `timeoutMs` (the peer stopped reading, or the
 * connect hangs) fails and drops the connection, so a stuck collector never stalls requests
 * for longer than that. After a failure, writes fail at once for a cooldown (250 ms, doubling
 * to 5 s): a dead or black-holed collector must not make every request wait for a timeout.
 */
export class StreamConnection {
  readonly #target: StreamTarget;
  readonly #timeoutMs: number;
  #socket: Socket | undefined;
  #connecting: Promise<Socket> | undefined;
  #downUntil = 0;
  #cooldownMs = COOLDOWN_MIN_MS;

  constructor(target: StreamTarget, timeoutMs: number) {
    this.#target = target;
    this.#timeoutMs = timeoutMs;
  }

  async connect(): Promise<void> {
    await this.#get();
  }

  async write(data: string): Promise<void> {
    const wait = this.#downUntil - Date.now();
    if (wait > 0) throw new Error(`${describeTarget(this.#target)} is unavailable (next attempt in ${wait} ms)`);
    try {
      await this.#write(data);
      this.#cooldownMs = COOLDOWN_MIN_MS;
    } catch (e) {
      this.#downUntil = Date.now() + this.#cooldownMs;
      this.#cooldownMs = Math.min(this.#cooldownMs * 2, COOLDOWN_MAX_MS);
      throw e;
    }
  }

  async #write(data: string): Promise<void> {
    const socket = await this.#get();
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (error?: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.off('error', settle);
        socket.off('close', onClose);
        if (error === undefined) return resolve();
        this.#drop(socket);
        reject(error instanceof Error ? error : new Error(String(error)));
      };
      const onClose = (): void => settle(new Error(`connection to ${describeTarget(this.#target)} closed`));
      const timer = setTimeout(() => settle(new Error(`write to ${describeTarget(this.#target)} timed out after ${this.#timeoutMs} ms`)), this.#timeoutMs);
      socket.once('error', settle);
      socket.once('close', onClose);
      socket.write(data, 'utf8', (e) => settle(e ?? undefined));
    });
  }

  /** Lets written data go out (bounded by the timeout), then closes. */
  async close(): Promise<void> {
    const socket = this.#socket;
    this.#socket = undefined;
    // A reopen (SIGHUP) tries again at once.
    this.#downUntil = 0;
    this.#cooldownMs = COOLDOWN_MIN_MS;
    if (!socket) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => { socket.destroy(); resolve(); }, this.#timeoutMs);
      socket.end(() => { clearTimeout(timer); socket.destroy(); resolve(); });
    });
  }

  #get(): Promise<Socket> {
    if (this.#socket && !this.#socket.destroyed) return Promise.resolve(this.#socket);
    this.#connecting ??= this.#open().finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  #open(): Promise<Socket> {
    return new Promise<Socket>((resolve, reject) => {
      const t = this.#target;
      const socket = t.kind === 'unix' ? connect({ path: t.path }) : connect({ host: t.host, port: t.port });
      const timer = setTimeout(() => fail(new Error(`connecting to ${describeTarget(t)} timed out after ${this.#timeoutMs} ms`)), this.#timeoutMs);
      const fail = (e: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(e);
      };
      socket.once('error', fail);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', fail);
        socket.setNoDelay(true);
        // A collector that talks back is ignored; errors and closes only mark the connection dead.
        socket.resume();
        socket.on('error', () => this.#drop(socket));
        socket.on('close', () => this.#drop(socket));
        this.#socket = socket;
        resolve(socket);
      });
    });
  }

  #drop(socket: Socket): void {
    if (this.#socket === socket) this.#socket = undefined;
    socket.destroy();
  }
}

/** The largest UDP payload over IPv4. */
export const MAX_DATAGRAM = 65_507;

/**
 * A connected UDP socket: one datagram per message. A connected socket hears ICMP "port
 * unreachable", so a collector that is down shows up as a failed send (the next one, usually).
 */
export class DatagramConnection {
  readonly #host: string;
  readonly #port: number;
  #socket: Promise<UdpSocket> | undefined;

  constructor(host: string, port: number) {
    this.#host = host;
    this.#port = port;
  }

  async connect(): Promise<void> {
    await this.#get();
  }

  async send(messages: readonly string[]): Promise<void> {
    const socket = await this.#get();
    for (const m of messages) {
      const buf = Buffer.from(m, 'utf8');
      if (buf.length > MAX_DATAGRAM) throw new Error(`entry of ${buf.length} bytes is too large for one UDP datagram (use tcp)`);
      await new Promise<void>((resolve, reject) => socket.send(buf, (e) => {
        if (!e) return resolve();
        this.#reset();
        reject(e);
      }));
    }
  }

  async close(): Promise<void> {
    const s = this.#socket;
    this.#socket = undefined;
    if (s) await s.then((socket) => new Promise<void>((resolve) => socket.close(() => resolve())), () => undefined);
  }

  #get(): Promise<UdpSocket> {
    this.#socket ??= new Promise<UdpSocket>((resolve, reject) => {
      const socket = createSocket(isIP(this.#host) === 6 ? 'udp6' : 'udp4');
      socket.on('error', () => this.#reset());
      socket.connect(this.#port, this.#host, () => resolve(socket));
      socket.once('error', (e) => reject(e));
      socket.unref();
    });
    const pending = this.#socket;
    pending.catch(() => { if (this.#socket === pending) this.#socket = undefined; });
    return pending;
  }

  #reset(): void {
    const s = this.#socket;
    this.#socket = undefined;
    void s?.then((socket) => { try { socket.close(); } catch { /* already closed */ } }, () => undefined);
  }
}
