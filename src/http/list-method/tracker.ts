/**
 * The request-framing state machine behind LIST support (see ../list-method.ts): it follows one
 * connection's inbound bytes as llhttp does in strict mode, rewrites the method token at each
 * request start, and stops for good on anything it does not fully understand.
 */
import {
  COLON, CR, H_ALL, H_CONTENT_LENGTH, H_TRANSFER_ENCODING, H_UPGRADE, LF, lookup, M_ALL, M_CONNECT, M_LIST, M_LOCK, M_PRI,
  MAX_METHOD_LENGTH, MAX_NAME_MATCH, METHOD_CHAR, METHOD_MATCH, NAME_MATCH, SEMICOLON, SP, TCHAR,
} from './grammar.js';
import { LineFraming } from './line-framing.js';
import { ValueScanner } from './values.js';

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
  readonly #lines = new LineFraming();
  #methodLength = 0;
  #methodMask = M_ALL;
  #nameLength = 0;
  #nameMask = H_ALL;
  #inTrailers = false;
  #sawContentLength = false;
  #sawTransferEncoding = false;
  readonly #value = new ValueScanner();
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
          this.#value.number = 0;
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
          this.#lines.startRequestLine();
          break;
        }

        case S_REQUEST_LINE: {
          const lf = this.#lines.lineEnd(buf, pos, end);
          if (lf === -2) return this.#stop();
          const stopAt = lf === -1 ? end : lf;
          this.#section += stopAt - pos + (lf === -1 ? 0 : 1);
          if (this.#section > this.#maxSection) return this.#stop();
          if (lf === -1) {
            this.#lines.keepTail(buf, pos, end);
            pos = end;
            break;
          }
          if (!this.#lines.versionOk(buf, pos, lf)) return this.#stop();
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
          this.#lines.pendingCR = false;
          if (length === 0) return this.#stop();
          if (length === 14 && (mask & H_CONTENT_LENGTH) !== 0) {
            // Repeated CL, CL with TE, framing headers in trailers: llhttp rejects or it is ambiguous.
            if (this.#inTrailers || this.#sawContentLength || this.#sawTransferEncoding) return this.#stop();
            this.#sawContentLength = true;
            this.#value.reset();
            this.#state = S_CL_VALUE;
          } else if (length === 17 && (mask & H_TRANSFER_ENCODING) !== 0) {
            if (this.#inTrailers || this.#sawContentLength || this.#sawTransferEncoding) return this.#stop();
            this.#sawTransferEncoding = true;
            this.#value.phase = 0;
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
          const lf = this.#lines.lineEnd(buf, pos, end);
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

        case S_CL_VALUE:
        case S_TE_VALUE: {
          const contentLength = this.#state === S_CL_VALUE;
          const value = this.#value;
          const next = contentLength ? value.contentLength(buf, pos, end) : value.transferEncoding(buf, pos, end);
          if (next < 0) return this.#stop();
          this.#section += next - pos;
          pos = next;
          if (this.#section > this.#maxSection) return this.#stop();
          if (value.phase === (contentLength ? 3 : 8)) {
            this.#lines.pendingCR = true;
            this.#state = S_FIELD_VALUE; // only the LF remains
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
          } else if (this.#sawContentLength && this.#value.number > 0) {
            this.#state = S_BODY;
          } else {
            this.#state = S_START; // a request without CL or TE has no body
          }
          break;
        }

        case S_BODY:
        case S_CHUNK_DATA: {
          const take = Math.min(this.#value.number, end - pos);
          pos += take;
          this.#value.number -= take;
          if (this.#value.number === 0) this.#state = this.#state === S_BODY ? S_START : S_CHUNK_DATA_CR;
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
          pos = this.#value.chunkSizeDigits(buf, pos, end);
          if (pos < 0) return this.#stop();
          if (pos < end) {
            if (this.#value.phase === 0) return this.#stop(); // no digits
            const b = buf[pos];
            if (b === CR) {
              this.#state = S_CHUNK_SIZE_LF;
            } else if (b === SEMICOLON) {
              this.#lines.pendingCR = false;
              this.#state = S_CHUNK_EXT;
            } else {
              return this.#stop(); // spaces after the size, bare LF, garbage
            }
            pos++;
          }
          this.#section += pos - from;
          if (this.#section > this.#maxSection) return this.#stop();
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

  #startChunkSize(): void {
    this.#state = S_CHUNK_SIZE;
    this.#value.reset();
    this.#section = 0;
  }

  #afterChunkSizeLine(): void {
    if (this.#value.number > 0) {
      this.#state = S_CHUNK_DATA;
      return;
    }
    this.#state = S_FIELD_START; // last chunk: trailers follow
    this.#inTrailers = true;
    this.#section = 0;
  }
}
