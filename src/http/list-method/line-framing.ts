/**
 * Line ends and the request line's version, for the LIST tracker (./tracker.ts): llhttp's strict
 * mode wants every CR directly followed by LF and every LF directly preceded by CR, and a line
 * may be split across reads anywhere, so both are checked across chunk boundaries.
 */
import { CR, LF, SP, VERSION_PREFIX, VERSION_TAIL } from './grammar.js';

export class LineFraming {
  /** The previous chunk ended in a line's CR. */
  pendingCR = false;
  #requestLineLength = 0;
  // Last bytes of a request line that spans chunks, for the version check.
  readonly #tail = Buffer.alloc(VERSION_TAIL);
  #tailLength = 0;

  /** After a method's SP: a new request line begins. */
  startRequestLine(): void {
    this.#requestLineLength = 0;
    this.#tailLength = 0;
    this.pendingCR = false;
  }

  /**
   * Finds the LF ending the current line at or after `pos`, checking that every CR is directly
   * followed by LF and every LF directly preceded by CR (across chunk boundaries too).
   * Returns the LF's index, -1 if the line goes on past `end`, -2 on a bare CR or LF.
   */
  lineEnd(buf: Buffer, pos: number, end: number): number {
    const lf = buf.indexOf(LF, pos);
    const cr = buf.indexOf(CR, pos);
    if (lf === -1) {
      if (cr !== -1 && cr !== end - 1) return -2;
      if (this.pendingCR && pos < end) return -2;
      this.pendingCR = cr === end - 1;
      return -1;
    }
    if (lf === pos) {
      if (!this.pendingCR) return -2;
    } else if (this.pendingCR || cr !== lf - 1) {
      return -2;
    }
    this.pendingCR = false;
    return lf;
  }

  /** Remembers the last bytes of a request line that continues in the next chunk. */
  keepTail(buf: Buffer, pos: number, end: number): void {
    this.#requestLineLength += end - pos;
    const tail = this.#tail;
    const incoming = Math.min(end - pos, VERSION_TAIL);
    const keep = Math.min(this.#tailLength, VERSION_TAIL - incoming);
    tail.copyWithin(0, this.#tailLength - keep, this.#tailLength);
    buf.copy(tail, keep, end - incoming, end);
    this.#tailLength = keep + incoming;
  }

  /**
   * The request line, ending at `lf` in `buf`, must end in ` HTTP/1.1` or ` HTTP/1.0` after a
   * non-space target byte. llhttp also accepts other versions and target-less HTTP/0.9 lines; we
   * refuse those.
   */
  versionOk(buf: Buffer, pos: number, lf: number): boolean {
    this.#requestLineLength += lf - pos;
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
}
