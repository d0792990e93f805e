/**
 * Accepting the HTTP `LIST` method that Vault clients send, which Node's parser (llhttp) rejects.
 *
 * Each connection is wrapped in a Duplex whose inbound bytes pass through a request-framing
 * tracker. At a request start, the method token `LIST` becomes `LOCK` (a method llhttp accepts,
 * same length) and a genuine `LOCK` becomes `L0CK` (rejected, same length), so no length or
 * framing ever changes. The tracker follows framing exactly as llhttp does in strict mode for the
 * requests it understands; on anything ambiguous it stops rewriting for the rest of the
 * connection, so a disagreement can only leave a LIST un-rewritten (a 400), never move a request
 * boundary.
 *
 * `ListMethodIncomingMessage` then turns each rewritten LOCK back into `LIST`, counting rewrites
 * per connection, so a LOCK that reaches Node after the tracker stopped is never taken for a LIST.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HT = 0x09;
const COLON = 0x3a;
const SEMICOLON = 0x3b;

// Tracker states.
const S_START = 0; // between messages: llhttp skips any CR and LF here
const S_METHOD = 1;
const S_REQUEST_LINE = 2; // after the method's SP, up to LF
const S_FIELD_START = 3; // start of a header (or trailer) line
const S_FIELD_NAME = 4;
const S_FIELD_VALUE = 5; // a value we only skip
const S_CL_VALUE = 6;
const S_TE_VALUE = 7;
const S_FIELDS_END_LF = 8; // CR seen at a line start: the section ends with LF
const S_BODY = 9; // Content-Length bytes
const S_CHUNK_SIZE = 10;
const S_CHUNK_SIZE_LF = 11;
const S_CHUNK_EXT = 12;
const S_CHUNK_DATA = 13;
const S_CHUNK_DATA_CR = 14;
const S_CHUNK_DATA_LF = 15;
const S_STOPPED = 16;

// Method candidates, one bit each.
const M_LIST = 1;
const M_LOCK = 2;
const M_CONNECT = 4;
const M_PRI = 8;
const M_ALL = M_LIST | M_LOCK | M_CONNECT | M_PRI;
const MAX_METHOD_LENGTH = 16; // llhttp's longest method is 11 bytes

// Header-name candidates, one bit each.
const H_CONTENT_LENGTH = 1;
const H_TRANSFER_ENCODING = 2;
const H_UPGRADE = 4;
const H_ALL = H_CONTENT_LENGTH | H_TRANSFER_ENCODING | H_UPGRADE;
const MAX_NAME_MATCH = 17; // 'transfer-encoding'

const CHUNKED = 'chunked';
// Above these we stop instead of risking float imprecision; llhttp allows more but nobody sends it.
const MAX_CONTENT_LENGTH = 1e14;
const MAX_CHUNK_SIZE = 2 ** 48;
const VERSION_TAIL = 11; // x + ' HTTP/1.1\r': a target byte, then the version

/** RFC 9110 tchar: the only bytes llhttp accepts in a header name. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;
/** Bytes llhttp accepts in a method token. */
const METHOD_CHAR = new Uint8Array(256);
for (const c of '-ABCDEFGHIJKLMNOPQRSTUVWXYZ') METHOD_CHAR[c.charCodeAt(0)] = 1;
const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX['0123456789abcdef'.charCodeAt(i)] = i;
  HEX['0123456789ABCDEF'.charCodeAt(i)] = i;
}

/** table[i << 8 | byte] = candidates whose i-th character is `byte` (case-insensitively if `fold`). */
function candidateTable(candidates: ReadonlyArray<readonly [string, number]>, width: number, fold: boolean): Uint8Array {
  const table = new Uint8Array(width << 8);
  for (const [word, bit] of candidates) {
    for (let i = 0; i < word.length; i++) {
      const c = word.charCodeAt(i);
      table[(i << 8) | c]! |= bit;
      if (fold) {
        table[(i << 8) | word.toUpperCase().charCodeAt(i)]! |= bit;
      }
    }
  }
  return table;
}
const METHOD_MATCH = candidateTable([['LIST', M_LIST], ['LOCK', M_LOCK], ['CONNECT', M_CONNECT], ['PRI', M_PRI]], 7, false);
const NAME_MATCH = candidateTable(
  [['content-length', H_CONTENT_LENGTH], ['transfer-encoding', H_TRANSFER_ENCODING], ['upgrade', H_UPGRADE]],
  MAX_NAME_MATCH,
  true,
);

export interface ListMethodTrackerOptions {
  /**
   * Largest header section (request line + headers, a chunk-size line, or trailers) followed
   * before giving up. Only a bound: nothing is buffered, so it costs no memory.
   */
  readonly maxSectionBytes?: number;
  /** Called once for each LIST rewritten to LOCK, before the rewritten bytes are emitted. */
  readonly onListRewrite?: () => void;
}

export const DEFAULT_MAX_SECTION_BYTES = 64 * 1024;

/**
 * Incremental request-framing tracker for one connection's inbound bytes.
 * `feed` rewrites chunks in place and hands them on; untouched chunks are passed as-is.
 */
export class ListMethodTracker {
  #state = S_START;
  readonly #maxSection: number;
  readonly #onListRewrite: (() => void) | undefined;
  #section = 0; // bytes of the current header-like section
  #pendingCR = false; // the previous chunk ended in a line's CR
  #methodLength = 0;
  #methodMask = M_ALL;
  #nameLength = 0;
  #nameMask = H_ALL;
  #inTrailers = false;
  #sawContentLength = false;
  #sawTransferEncoding = false;
  #number = 0; // Content-Length value, chunk size, or bytes left in a body or chunk
  #valuePhase = 0; // CL: 0 leading OWS, 1 digits, 2 trailing OWS, 3 CR; TE: letters of 'chunked' matched, 8 CR; chunk size: digits
  #requestLineLength = 0;
  // Last bytes of a request line that spans chunks, for the version check.
  readonly #tail = Buffer.alloc(VERSION_TAIL);
  #tailLength = 0;
  // Up to 4 bytes that may start LIST or LOCK, held until the next chunk decides.
  #held: Buffer | null = null;

  constructor(options: ListMethodTrackerOptions = {}) {
    const max = options.maxSectionBytes ?? DEFAULT_MAX_SECTION_BYTES;
    if (!Number.isSafeInteger(max) || max < 1024) throw new TypeError('maxSectionBytes must be an integer >= 1024');
    this.#maxSection = max;
    this.#onListRewrite = options.onListRewrite;
  }

  /** True once the tracker gave up: everything from then on passes through untouched. */
  get stopped(): boolean {
    return this.#state === S_STOPPED;
  }

  /** True between requests with nothing held back. */
  get atMessageBoundary(): boolean {
    return this.#state === S_START && this.#held === null;
  }

  /** Processes `chunk` (which may be modified in place) and passes the bytes to `emit` in order. */
  feed(chunk: Buffer, emit: (piece: Buffer) => void): void {
    if (this.#state === S_STOPPED) {
      emit(chunk);
      return;
    }
    let buf = chunk;
    if (this.#held !== null) {
      // Rare: a method that may be LIST/LOCK was split across reads.
      buf = Buffer.concat([this.#held, chunk]);
      this.#held = null;
    }
    const holdFrom = this.#scan(buf);
    if (holdFrom < 0) {
      emit(buf);
      return;
    }
    this.#held = Buffer.from(buf.subarray(holdFrom));
    if (holdFrom > 0) emit(buf.subarray(0, holdFrom));
  }

  /** At end of input: hands on any held bytes untouched. */
  flush(emit: (piece: Buffer) => void): void {
    const held = this.#held;
    this.#held = null;
    if (held !== null) emit(held);
  }

  #stop(): number {
    this.#state = S_STOPPED;
    return -1;
  }

  /** Advances over `buf`. Returns where to start holding bytes back, or -1. */
  #scan(buf: Buffer): number {
    const end = buf.length;
    let pos = 0;
    let methodStart = 0;
    while (pos < end) {
      switch (this.#state) {
        case S_START: {
          let b = buf[pos];
          while (b === CR || b === LF) {
            if (++pos === end) return -1;
            b = buf[pos];
          }
          this.#state = S_METHOD;
          this.#methodLength = 0;
          this.#methodMask = M_ALL;
          this.#section = 0;
          this.#sawContentLength = false;
          this.#sawTransferEncoding = false;
          this.#inTrailers = false;
          this.#number = 0;
          methodStart = pos;
          break;
        }

        case S_METHOD: {
          // A method that still may be LIST/LOCK started in this buffer (else it was held).
          let length = this.#methodLength;
          let mask = this.#methodMask;
          for (; pos < end; pos++) {
            const b = buf[pos]!;
            if (b === SP) break;
            if (METHOD_CHAR[b] === 0 || length === MAX_METHOD_LENGTH) return this.#stop();
            mask = length < 7 ? mask & lookup(METHOD_MATCH, length, b) : 0;
            length++;
          }
          this.#section += length - this.#methodLength;
          this.#methodLength = length;
          this.#methodMask = mask;
          if (pos === end) {
            if ((mask & (M_LIST | M_LOCK)) !== 0) {
              this.#section -= length; // scanned again with the next chunk
              this.#methodLength = 0;
              this.#methodMask = M_ALL;
              return methodStart;
            }
            return -1;
          }
          if (length === 4 && (mask & M_LIST) !== 0) {
            buf[methodStart + 1] = 0x4f; // LIST -> LOCK
            buf[methodStart + 2] = 0x43;
            buf[methodStart + 3] = 0x4b;
            this.#onListRewrite?.();
          } else if (length === 4 && (mask & M_LOCK) !== 0) {
            buf[methodStart + 1] = 0x30; // LOCK -> L0CK: llhttp answers 400, so LOCK is ours alone
          } else if ((length === 7 && (mask & M_CONNECT) !== 0) || (length === 3 && (mask & M_PRI) !== 0)) {
            return this.#stop(); // the rest of the connection is not HTTP/1.1 requests
          }
          pos++;
          this.#section++;
          this.#state = S_REQUEST_LINE;
          this.#requestLineLength = 0;
          this.#tailLength = 0;
          this.#pendingCR = false;
          break;
        }

        case S_REQUEST_LINE: {
          const lf = this.#lineEnd(buf, pos, end);
          if (lf === -2) return this.#stop();
          const stopAt = lf === -1 ? end : lf;
          this.#requestLineLength += stopAt - pos;
          this.#section += stopAt - pos + (lf === -1 ? 0 : 1);
          if (this.#section > this.#maxSection) return this.#stop();
          if (lf === -1) {
            this.#keepTail(buf, pos, end);
            pos = end;
            break;
          }
          if (!this.#versionOk(buf, pos, lf)) return this.#stop();
          pos = lf + 1;
          this.#state = S_FIELD_START;
          break;
        }

        case S_FIELD_START: {
          const b = buf[pos];
          if (b === CR) {
            pos++;
            this.#section++;
            this.#state = S_FIELDS_END_LF;
          } else if (TCHAR[b!] === 1) {
            this.#state = S_FIELD_NAME;
            this.#nameLength = 0;
            this.#nameMask = H_ALL;
          } else {
            return this.#stop(); // bare LF, obs-fold or leading whitespace, empty name, garbage
          }
          break;
        }

        case S_FIELD_NAME: {
          let length = this.#nameLength;
          let mask = this.#nameMask;
          const from = pos;
          for (; pos < end; pos++) {
            const b = buf[pos]!;
            if (b === COLON) break;
            if (TCHAR[b] === 0) return this.#stop(); // includes whitespace before the colon
            mask = length < MAX_NAME_MATCH ? mask & lookup(NAME_MATCH, length, b) : 0;
            length++;
          }
          this.#section += pos - from;
          if (this.#section > this.#maxSection) return this.#stop();
          this.#nameLength = length;
          this.#nameMask = mask;
          if (pos === end) break;
          pos++; // the colon
          this.#section++;
          this.#pendingCR = false;
          if (length === 0) return this.#stop();
          if (length === 14 && (mask & H_CONTENT_LENGTH) !== 0) {
            // Repeated CL, CL with TE, framing headers in trailers: llhttp rejects or it is ambiguous.
            if (this.#inTrailers || this.#sawContentLength || this.#sawTransferEncoding) return this.#stop();
            this.#sawContentLength = true;
            this.#number = 0;
            this.#valuePhase = 0;
            this.#state = S_CL_VALUE;
          } else if (length === 17 && (mask & H_TRANSFER_ENCODING) !== 0) {
            if (this.#inTrailers || this.#sawContentLength || this.#sawTransferEncoding) return this.#stop();
            this.#sawTransferEncoding = true;
            this.#valuePhase = 0;
            this.#state = S_TE_VALUE;
          } else if (length === 7 && (mask & H_UPGRADE) !== 0) {
            return this.#stop(); // Node may hand the connection to another protocol
          } else {
            this.#state = S_FIELD_VALUE;
          }
          break;
        }

        case S_FIELD_VALUE:
        case S_CHUNK_EXT: {
          const lf = this.#lineEnd(buf, pos, end);
          if (lf === -2) return this.#stop();
          const stopAt = lf === -1 ? end : lf + 1;
          this.#section += stopAt - pos;
          if (this.#section > this.#maxSection) return this.#stop();
          pos = stopAt;
          if (lf === -1) break;
          if (this.#state === S_FIELD_VALUE) this.#state = S_FIELD_START;
          else this.#afterChunkSizeLine();
          break;
        }

        case S_CL_VALUE: {
          const from = pos;
          let phase = this.#valuePhase;
          let value = this.#number;
          for (; pos < end; pos++) {
            const b = buf[pos]!;
            if (b >= 0x30 && b <= 0x39) {
              if (phase === 2 || value >= MAX_CONTENT_LENGTH) return this.#stop();
              value = value * 10 + (b - 0x30);
              phase = 1;
            } else if (b === SP || b === HT) {
              if (phase === 1) phase = 2;
            } else if (b === CR && phase !== 0) {
              pos++;
              phase = 3;
              break;
            } else {
              return this.#stop(); // empty, signs, commas, lists: all refused
            }
          }
          this.#section += pos - from;
          if (this.#section > this.#maxSection) return this.#stop();
          this.#number = value;
          this.#valuePhase = phase;
          if (phase === 3) {
            this.#pendingCR = true;
            this.#state = S_FIELD_VALUE; // only the LF remains
          }
          break;
        }

        case S_TE_VALUE: {
          // Exactly "chunked" (any case), optional spaces around it; anything else is refused.
          const from = pos;
          let phase = this.#valuePhase;
          for (; pos < end; pos++) {
            const b = buf[pos]!;
            if (phase === 0 && (b === SP || b === HT)) continue;
            if (phase < 7) {
              if ((b | 0x20) !== CHUNKED.charCodeAt(phase)) return this.#stop();
              phase++;
            } else if (b === CR) {
              pos++;
              phase = 8;
              break;
            } else if (b !== SP) {
              return this.#stop();
            }
          }
          this.#section += pos - from;
          if (this.#section > this.#maxSection) return this.#stop();
          this.#valuePhase = phase;
          if (phase === 8) {
            this.#pendingCR = true;
            this.#state = S_FIELD_VALUE;
          }
          break;
        }

        case S_FIELDS_END_LF: {
          if (buf[pos] !== LF) return this.#stop();
          pos++;
          if (this.#inTrailers) {
            this.#state = S_START;
          } else if (this.#sawTransferEncoding) {
            this.#startChunkSize();
          } else if (this.#sawContentLength && this.#number > 0) {
            this.#state = S_BODY;
          } else {
            this.#state = S_START; // a request without CL or TE has no body
          }
          break;
        }

        case S_BODY:
        case S_CHUNK_DATA: {
          const take = Math.min(this.#number, end - pos);
          pos += take;
          this.#number -= take;
          if (this.#number === 0) this.#state = this.#state === S_BODY ? S_START : S_CHUNK_DATA_CR;
          break;
        }

        case S_CHUNK_DATA_CR: {
          if (buf[pos] !== CR) return this.#stop();
          pos++;
          this.#state = S_CHUNK_DATA_LF;
          break;
        }

        case S_CHUNK_DATA_LF: {
          if (buf[pos] !== LF) return this.#stop();
          pos++;
          this.#startChunkSize();
          break;
        }

        case S_CHUNK_SIZE: {
          const from = pos;
          let size = this.#number;
          let digits = this.#valuePhase;
          for (; pos < end; pos++) {
            const b = buf[pos]!;
            const v = HEX[b]!;
            if (v >= 0) {
              if (size >= MAX_CHUNK_SIZE) return this.#stop();
              size = size * 16 + v;
              digits++;
              continue;
            }
            if (digits === 0) return this.#stop();
            if (b === CR) {
              pos++;
              this.#state = S_CHUNK_SIZE_LF;
            } else if (b === SEMICOLON) {
              pos++;
              this.#pendingCR = false;
              this.#state = S_CHUNK_EXT;
            } else {
              return this.#stop(); // spaces after the size, bare LF, garbage
            }
            break;
          }
          this.#section += pos - from;
          if (this.#section > this.#maxSection) return this.#stop();
          this.#number = size;
          this.#valuePhase = digits;
          break;
        }

        case S_CHUNK_SIZE_LF: {
          if (buf[pos] !== LF) return this.#stop();
          pos++;
          this.#afterChunkSizeLine();
          break;
        }

        default:
          return -1; // S_STOPPED: an earlier part of this buffer was rewritten; hand it on whole
      }
    }
    return -1;
  }

  /**
   * Finds the LF ending the current line at or after `pos`, checking that every CR is directly
   * followed by LF and every LF directly preceded by CR (across chunk boundaries too).
   * Returns the LF's index, -1 if the line goes on past `end`, -2 on a bare CR or LF.
   */
  #lineEnd(buf: Buffer, pos: number, end: number): number {
    const lf = buf.indexOf(LF, pos);
    const cr = buf.indexOf(CR, pos);
    if (lf === -1) {
      if (cr !== -1 && cr !== end - 1) return -2;
      if (this.#pendingCR && pos < end) return -2;
      this.#pendingCR = cr === end - 1;
      return -1;
    }
    if (lf === pos) {
      if (!this.#pendingCR) return -2;
    } else if (this.#pendingCR || cr !== lf - 1) {
      return -2;
    }
    this.#pendingCR = false;
    return lf;
  }

  /** Remembers the last bytes of a request line that continues in the next chunk. */
  #keepTail(buf: Buffer, pos: number, end: number): void {
    const tail = this.#tail;
    const incoming = Math.min(end - pos, VERSION_TAIL);
    const keep = Math.min(this.#tailLength, VERSION_TAIL - incoming);
    tail.copyWithin(0, this.#tailLength - keep, this.#tailLength);
    buf.copy(tail, keep, end - incoming, end);
    this.#tailLength = keep + incoming;
  }

  /**
   * The request line must end in ` HTTP/1.1` or ` HTTP/1.0` after a non-space target byte.
   * llhttp also accepts other versions and target-less HTTP/0.9 lines; we refuse those.
   */
  #versionOk(buf: Buffer, pos: number, lf: number): boolean {
    if (this.#requestLineLength < VERSION_TAIL) return false;
    const inBuf = lf - pos;
    const byteBefore = (k: number): number => (k <= inBuf ? buf[lf - k]! : this.#tail[this.#tailLength - (k - inBuf)]!);
    if (byteBefore(1) !== CR) return false;
    const minor = byteBefore(2);
    if (minor !== 0x30 && minor !== 0x31) return false;
    for (let k = 3; k <= 10; k++) {
      if (byteBefore(k) !== VERSION_PREFIX[10 - k]) return false;
    }
    return byteBefore(VERSION_TAIL) !== SP;
  }

  #startChunkSize(): void {
    this.#state = S_CHUNK_SIZE;
    this.#number = 0;
    this.#valuePhase = 0;
    this.#section = 0;
  }

  #afterChunkSizeLine(): void {
    if (this.#number > 0) {
      this.#state = S_CHUNK_DATA;
      return;
    }
    this.#state = S_FIELD_START; // last chunk: trailers follow
    this.#inTrailers = true;
    this.#section = 0;
  }
}

const VERSION_PREFIX = Buffer.from(' HTTP/1.', 'latin1');

function lookup(table: Uint8Array, index: number, byte: number): number {
  return table[(index << 8) | byte]!;
}

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
