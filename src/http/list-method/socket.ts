/**
 * The Duplex that stands in for an accepted connection so that its inbound bytes pass through the
 * LIST tracker (./tracker.ts) before Node's HTTP parser sees them.
 */
import type http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import { ListMethodTracker } from './tracker.js';

/** What the wrapper needs from the accepted connection: a net.Socket or tls.TLSSocket (or a test double). */
export type RawConnection = Duplex &
  Partial<
    Pick<
      Socket,
      | 'setTimeout'
      | 'setNoDelay'
      | 'setKeepAlive'
      | 'ref'
      | 'unref'
      | 'address'
      | 'remoteAddress'
      | 'remotePort'
      | 'remoteFamily'
      | 'localAddress'
      | 'localPort'
      | 'bytesRead'
      | 'bytesWritten'
    >
  >;

export interface ListMethodSocketOptions {
  /** See ListMethodTrackerOptions.maxSectionBytes. */
  readonly maxSectionBytes?: number;
}

type WriteCallback = (error?: Error | null) => void;

/**
 * The socket Node's http.Server sees: inbound bytes go through the tracker, everything else is
 * delegated to the accepted connection. Node consumes a real net.Socket's handle directly and
 * never emits 'data'; a plain Duplex makes it read through us.
 */
export class ListMethodSocket extends Duplex {
  /** The accepted connection (a tls.TLSSocket on TLS listeners: peer certificates, ALPN...). */
  readonly raw: RawConnection;
  /** As on tls.TLSSocket; fastify's request.protocol reads it. */
  readonly encrypted: boolean;
  readonly #tracker: ListMethodTracker;
  #pendingLists = 0;
  #response: http.ServerResponse | null = null;
  #waitingDrain: WriteCallback | null = null;
  #closeWhenIdle = false;
  #idleCheckQueued = false;
  #whenUntracked: (() => void) | undefined;

  constructor(raw: RawConnection, options: ListMethodSocketOptions = {}) {
    super({
      allowHalfOpen: true, // Node's http server decides when to end after the client's FIN
      decodeStrings: false,
      readableHighWaterMark: raw.readableHighWaterMark,
      writableHighWaterMark: raw.writableHighWaterMark,
    });
    this.raw = raw;
    this.encrypted = raw instanceof TLSSocket;
    this.#tracker = new ListMethodTracker({
      ...(options.maxSectionBytes === undefined ? {} : { maxSectionBytes: options.maxSectionBytes }),
      onListRewrite: () => {
        this.#pendingLists++;
      },
    });
    raw.on('data', this.#onData);
    raw.on('end', this.#onEnd);
    raw.on('error', this.#onError);
    raw.on('close', this.#onClose);
    raw.on('drain', this.#onDrain);
    raw.on('timeout', this.#onTimeout);
  }

  readonly #push = (piece: Buffer): void => {
    if (!this.push(piece)) this.raw.pause();
  };

  readonly #onData = (chunk: Buffer | string): void => {
    this.#tracker.feed(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk, this.#push);
  };

  readonly #onEnd = (): void => {
    this.#tracker.flush(this.#push);
    this.push(null);
  };

  readonly #onError = (error: Error): void => {
    this.destroy(error);
  };

  readonly #onClose = (): void => {
    this.#waitingDrain = null;
    if (!this.destroyed) this.destroy();
  };

  readonly #onDrain = (): void => {
    const callback = this.#waitingDrain;
    this.#waitingDrain = null;
    callback?.();
  };

  readonly #onTimeout = (): void => {
    this.emit('timeout');
  };

  override _read(): void {
    if (this.raw.isPaused()) this.raw.resume();
  }

  override _write(chunk: Buffer | string, encoding: BufferEncoding, callback: WriteCallback): void {
    this.raw.write(chunk, encoding);
    this.#afterWrite(callback);
  }

  override _writev(chunks: Array<{ chunk: Buffer | string; encoding: BufferEncoding }>, callback: WriteCallback): void {
    const raw = this.raw;
    raw.cork();
    for (const { chunk, encoding } of chunks) raw.write(chunk, encoding);
    raw.uncork();
    this.#afterWrite(callback);
  }

  // Completing writes without waiting for the kernel keeps net.Socket's behaviour: data handed
  // to write() before destroy() still goes out; backpressure is the connection's own drain.
  #afterWrite(callback: WriteCallback): void {
    if (this.raw.writableNeedDrain) this.#waitingDrain = callback;
    else callback();
  }

  override _final(callback: WriteCallback): void {
    // Wait until the connection has flushed, so an auto-destroy cannot cut the response short.
    this.raw.end(() => callback());
  }

  override _destroy(error: Error | null, callback: WriteCallback): void {
    this.#waitingDrain = null;
    this.raw.destroy();
    callback(error);
  }

  /** As net.Socket#destroySoon, which Node's http server prefers to end() after a last response. */
  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  setTimeout(timeout: number, callback?: () => void): this {
    this.raw.setTimeout?.(timeout);
    if (callback !== undefined) {
      if (timeout === 0) this.removeListener('timeout', callback);
      else this.once('timeout', callback);
    }
    return this;
  }

  setNoDelay(noDelay?: boolean): this {
    this.raw.setNoDelay?.(noDelay);
    return this;
  }

  setKeepAlive(enable?: boolean, initialDelay?: number): this {
    this.raw.setKeepAlive?.(enable, initialDelay);
    return this;
  }

  ref(): this {
    this.raw.ref?.();
    return this;
  }

  unref(): this {
    this.raw.unref?.();
    return this;
  }

  address(): AddressInfo | Record<string, never> {
    return this.raw.address?.() ?? {};
  }

  get remoteAddress(): string | undefined {
    return this.raw.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.raw.remotePort;
  }

  get remoteFamily(): string | undefined {
    return this.raw.remoteFamily;
  }

  get localAddress(): string | undefined {
    return this.raw.localAddress;
  }

  get localPort(): number | undefined {
    return this.raw.localPort;
  }

  get bytesRead(): number {
    return this.raw.bytesRead ?? 0;
  }

  get bytesWritten(): number {
    return this.raw.bytesWritten ?? 0;
  }

  /** Whether the tracker gave up on this connection (LIST is then no longer accepted on it). */
  get listTrackingStopped(): boolean {
    return this.#tracker.stopped;
  }

  /** Consumes one LIST rewrite; false means a LOCK request was genuine, not a rewritten LIST. */
  takeListRewrite(): boolean {
    if (this.#pendingLists === 0) return false;
    this.#pendingLists--;
    return true;
  }

  /**
   * Node's http server keeps the in-flight response here (assignSocket/detachSocket). Watching
   * it lets a shutting-down listener mark responses `Connection: close` and end the connection
   * as soon as it is idle.
   */
  get _httpMessage(): http.ServerResponse | null {
    return this.#response;
  }

  set _httpMessage(response: http.ServerResponse | null) {
    this.#response = response;
    if (!this.#closeWhenIdle) return;
    if (response === null) this.#queueIdleCheck();
    else if (!response.headersSent) response.shouldKeepAlive = false;
  }

  /**
   * Idle: no response in flight, nothing waiting for Node's parser, and the tracker between
   * requests. When the tracker stopped we cannot tell, so the connection is left to Node's
   * keep-alive and header timeouts.
   */
  get idle(): boolean {
    return this.#response === null && this.readableLength === 0 && this.#tracker.atMessageBoundary;
  }

  /**
   * For shutdown: finishes the current response with `Connection: close`, then ends the
   * connection once idle. If the tracker stopped, idleness is Node's to judge: `whenUntracked`
   * is called instead (e.g. http.Server#closeIdleConnections).
   */
  closeWhenIdle(whenUntracked?: () => void): void {
    if (this.#closeWhenIdle) return;
    this.#closeWhenIdle = true;
    this.#whenUntracked = whenUntracked;
    const response = this.#response;
    if (response !== null && !response.headersSent) response.shouldKeepAlive = false;
    this.#queueIdleCheck();
  }

  #queueIdleCheck(): void {
    if (this.#idleCheckQueued) return;
    this.#idleCheckQueued = true;
    // After Node's resOnFinish has detached this response and maybe attached a pipelined one.
    setImmediate(() => {
      this.#idleCheckQueued = false;
      if (this.destroyed) return;
      if (this.idle) this.destroySoon();
      else if (this.#tracker.stopped && this.#response === null) this.#whenUntracked?.();
    });
  }
}
