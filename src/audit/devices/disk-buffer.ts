import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * A bounded on-disk queue of lines for the http device while its endpoint is down: appended at
 * the end, read from a cursor at the front, emptied (truncated) once everything was sent. All
 * operations go through `run`, one at a time, so an append never races a read or the truncate.
 * Delivery is at least once: if the server stops mid-drain, the lines already sent since the
 * last truncate are sent again after the restart.
 */
export class DiskBuffer {
  readonly #path: string;
  readonly #maxBytes: number;
  #fh: FileHandle | undefined;
  #size = 0;
  #cursor = 0;
  #lock: Promise<unknown> = Promise.resolve();

  constructor(path: string, maxBytes: number) {
    this.#path = path;
    this.#maxBytes = maxBytes;
  }

  /** Bytes not yet sent. */
  get pendingBytes(): number { return this.#size - this.#cursor; }

  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#lock.then(fn);
    this.#lock = next.catch(() => undefined);
    return next;
  }

  async open(): Promise<void> {
    if (this.#fh) return;
    await mkdir(dirname(this.#path), { recursive: true, mode: 0o700 });
    this.#fh = await open(this.#path, 'a+', 0o600);
    this.#size = (await this.#fh.stat()).size;
    this.#cursor = 0;
  }

  async append(lines: readonly string[]): Promise<void> {
    const fh = await this.#handle();
    const buf = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
    if (this.#size + buf.length > this.#maxBytes) throw new Error(`the audit buffer is full (${this.#maxBytes} bytes)`);
    let offset = 0;
    while (offset < buf.length) offset += (await fh.write(buf, offset, buf.length - offset)).bytesWritten;
    this.#size += buf.length;
  }

  /** The next whole lines from the cursor (about `maxBytes` of them), or undefined when all were sent. */
  async read(maxBytes: number): Promise<{ lines: string[]; bytes: number } | undefined> {
    const fh = await this.#handle();
    let want = Math.min(maxBytes, this.pendingBytes);
    while (want > 0) {
      const buf = Buffer.alloc(want);
      const { bytesRead } = await fh.read(buf, 0, want, this.#cursor);
      const end = buf.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (end >= 0) {
        const text = buf.subarray(0, end).toString('utf8');
        return { lines: text.split('\n'), bytes: end + 1 };
      }
      if (want >= this.pendingBytes) break;
      want = Math.min(want * 2, this.pendingBytes);
    }
    return undefined;
  }

  /** Marks `bytes` as sent; truncates the file once nothing is left. */
  async consume(bytes: number): Promise<void> {
    this.#cursor += bytes;
    if (this.#cursor >= this.#size) {
      await (await this.#handle()).truncate(0);
      this.#size = 0;
      this.#cursor = 0;
    }
  }

  async close(): Promise<void> {
    const fh = this.#fh;
    this.#fh = undefined;
    await fh?.close();
  }

  async #handle(): Promise<FileHandle> {
    if (!this.#fh) await this.open();
    return this.#fh!;
  }
}
