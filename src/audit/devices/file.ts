import { write } from 'node:fs';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname, isAbsolute } from 'node:path';
import { invalid } from '../../util/errors.js';
import { optionalBool } from '../options.js';
import type { AuditDevice, DeviceType } from '../types.js';

export interface FileDeviceOptions {
  /** An absolute path, or 'stdout' / 'discard'. */
  readonly path: string;
  /** File mode; 0 leaves an existing file's mode alone (as Vault's "0000"). */
  readonly mode: number;
  /** fdatasync after each batch, before the requests in it are answered. */
  readonly fsync: boolean;
}

/** How often the device wrote and synced: group commit means far fewer syncs than entries. */
export interface FileDeviceStats {
  writes: number;
  syncs: number;
}

/** fs.write with a callback: lighter than FileHandle.write's promise machinery, the same thread-pool write. */
function writeAt(fd: number, buf: Buffer, offset: number): Promise<number> {
  return new Promise((resolve, reject) => write(fd, buf, offset, buf.length - offset, null, (e, n) => (e ? reject(e) : resolve(n))));
}

/**
 * Appends lines to a file (or stdout). One batch is one write (plus one fdatasync with `fsync`).
 * After a failed write the file is closed and reopened on the next one, as Vault does, so a
 * replaced or repaired file is picked up without a restart.
 */
export class FileDevice implements AuditDevice {
  readonly options: FileDeviceOptions;
  readonly stats: FileDeviceStats = { writes: 0, syncs: 0 };
  #fh: FileHandle | undefined;
  #opening: Promise<FileHandle> | undefined;

  constructor(options: FileDeviceOptions) {
    this.options = options;
  }

  async open(): Promise<void> {
    if (this.options.path === 'stdout' || this.options.path === 'discard') return;
    await this.#handle();
  }

  async write(lines: readonly string[]): Promise<void> {
    if (this.options.path === 'discard') return;
    const buf = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
    if (this.options.path === 'stdout') {
      await new Promise<void>((resolve, reject) => process.stdout.write(buf, (e) => (e ? reject(e) : resolve())));
      return;
    }
    const fh = await this.#handle();
    try {
      let offset = 0;
      while (offset < buf.length) {
        offset += await writeAt(fh.fd, buf, offset);
      }
      this.stats.writes += 1;
      if (this.options.fsync) {
        await fh.datasync();
        this.stats.syncs += 1;
      }
    } catch (e) {
      await this.#drop();
      throw e;
    }
  }

  async reopen(): Promise<void> {
    await this.#drop();
    await this.open();
  }

  async close(): Promise<void> {
    await this.#drop();
  }

  async #handle(): Promise<FileHandle> {
    if (this.#fh) return this.#fh;
    this.#opening ??= this.#openFile().finally(() => (this.#opening = undefined));
    return this.#opening;
  }

  async #openFile(): Promise<FileHandle> {
    const { path, mode } = this.options;
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const fh = await open(path, 'a', mode === 0 ? 0o600 : mode);
    try {
      // The file may have existed with a looser mode.
      if (mode !== 0 && path !== '/dev/null' && (await fh.stat()).isFile()) await fh.chmod(mode);
    } catch (e) {
      await fh.close();
      throw e;
    }
    this.#fh = fh;
    return fh;
  }

  async #drop(): Promise<void> {
    const fh = this.#fh;
    this.#fh = undefined;
    await fh?.close().catch(() => undefined);
  }
}

export const fileDeviceType: DeviceType = {
  options: ['file_path', 'path', 'mode', 'fsync'],
  create: (options) => new FileDevice(parseFileOptions(options)),
};

export function parseFileOptions(options: Readonly<Record<string, string>>): FileDeviceOptions {
  const raw = options['file_path'] ?? options['path'];
  if (raw === undefined || raw === '') throw invalid('file_path is required');
  const lower = raw.toLowerCase();
  const path = lower === 'stdout' || lower === 'discard' ? lower : raw;
  if (path !== 'stdout' && path !== 'discard' && !isAbsolute(path)) throw invalid('file_path must be an absolute path, "stdout" or "discard"');
  if (path.includes('\0')) throw invalid('file_path must not contain NUL');
  const modeText = options['mode'] ?? '0600';
  if (!/^[0-7]{1,4}$/.test(modeText)) throw invalid(`mode must be octal, such as "0600", got ${JSON.stringify(modeText)}`);
  const mode = parseInt(modeText, 8);
  // An executable audit file is how an audit device turns into code execution: never.
  if ((mode & 0o7111) !== 0) throw invalid('mode must not set executable, setuid, setgid or sticky bits');
  return { path, mode, fsync: optionalBool(options, 'fsync') ?? false };
}
