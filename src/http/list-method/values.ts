/**
 * The framing values the LIST tracker (./tracker.ts) reads: Content-Length, Transfer-Encoding and
 * chunk sizes, scanned a read at a time (a value may be split across reads anywhere). Each scan
 * returns where it ended, or -1 on anything llhttp might read differently.
 */
import { CHUNKED, CR, HEX, HT, MAX_CHUNK_SIZE, MAX_CONTENT_LENGTH, SP } from './grammar.js';

export class ValueScanner {
  /** Content-Length value, chunk size, or bytes left in a body or chunk. */
  number = 0;
  /** CL: 0 leading OWS, 1 digits, 2 trailing OWS, 3 CR; TE: letters of 'chunked' matched, 8 CR; chunk size: digits. */
  phase = 0;

  reset(): void {
    this.number = 0;
    this.phase = 0;
  }

  /** A Content-Length value; done (past its CR) when `phase` is 3. */
  contentLength(buf: Buffer, pos: number, end: number): number {
    let phase = this.phase;
    let value = this.number;
    for (; pos < end; pos++) {
      const b = buf[pos]!;
      if (b >= 0x30 && b <= 0x39) {
        if (phase === 2 || value >= MAX_CONTENT_LENGTH) return -1;
        value = value * 10 + (b - 0x30);
        phase = 1;
      } else if (b === SP || b === HT) {
        if (phase === 1) phase = 2;
      } else if (b === CR && phase !== 0) {
        pos++;
        phase = 3;
        break;
      } else {
        return -1; // empty, signs, commas, lists: all refused
      }
    }
    this.number = value;
    this.phase = phase;
    return pos;
  }

  /**
   * A Transfer-Encoding value: exactly "chunked" (any case), optional spaces around it; anything
   * else is refused. Done (past its CR) when `phase` is 8.
   */
  transferEncoding(buf: Buffer, pos: number, end: number): number {
    let phase = this.phase;
    for (; pos < end; pos++) {
      const b = buf[pos]!;
      if (phase === 0 && (b === SP || b === HT)) continue;
      if (phase < 7) {
        if ((b | 0x20) !== CHUNKED.charCodeAt(phase)) return -1;
        phase++;
      } else if (b === CR) {
        pos++;
        phase = 8;
        break;
      } else if (b !== SP) {
        return -1;
      }
    }
    this.phase = phase;
    return pos;
  }

  /** The hex digits of a chunk size; ends at the first other byte (not consumed). */
  chunkSizeDigits(buf: Buffer, pos: number, end: number): number {
    let size = this.number;
    let digits = this.phase;
    for (; pos < end; pos++) {
      const v = HEX[buf[pos]!]!;
      if (v < 0) break;
      if (size >= MAX_CHUNK_SIZE) return -1;
      size = size * 16 + v;
      digits++;
    }
    this.number = size;
    this.phase = digits;
    return pos;
  }
}
