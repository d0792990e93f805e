import { isAbsolute } from 'node:path';
import { invalid } from '../../util/errors.js';
import { optionalDurationMs, optionalInt } from '../options.js';
import type { AuditDevice, DeviceEnv, DeviceType } from '../types.js';
import { DiskBuffer } from './disk-buffer.js';

export interface HttpDeviceOptions {
  readonly url: URL;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** One JSON line per entry (`application/x-ndjson`), or one JSON array per batch. */
  readonly batchFormat: 'ndjson' | 'array';
  readonly timeoutMs: number;
  /** Retries of a failed POST before the batch counts as failed (or goes to the buffer). */
  readonly maxRetries: number;
  readonly buffer: { readonly path: string; readonly maxBytes: number } | undefined;
}

const RETRY_BASE_MS = 100;
const COOLDOWN_MIN_MS = 250;
const COOLDOWN_MAX_MS = 5000;
const DRAIN_CHUNK_BYTES = 1 << 20;

/**
 * POSTs each batch of entries to a SIEM endpoint (Splunk HEC raw, an ingest pipeline, ...).
 * A failed POST is retried with backoff; if it still fails the batch counts as not written —
 * unless a disk buffer is configured, in which case the batch (and everything after it, to keep
 * the order) goes to the buffer and is sent when the endpoint answers again. While the endpoint
 * is known to be down and there is no buffer, writes fail at once rather than make every
 * request wait for the retries; one write is let through every cooldown to find out.
 */
export class HttpDevice implements AuditDevice {
  readonly #opts: HttpDeviceOptions;
  readonly #env: DeviceEnv;
  readonly #buffer: DiskBuffer | undefined;
  #buffering = false;
  #downUntil = 0;
  #cooldownMs = COOLDOWN_MIN_MS;
  #draining: Promise<void> | undefined;
  #closed = false;
  readonly #sleepers = new Set<() => void>();

  constructor(opts: HttpDeviceOptions, env: DeviceEnv) {
    this.#opts = opts;
    this.#env = env;
    this.#buffer = opts.buffer ? new DiskBuffer(opts.buffer.path, opts.buffer.maxBytes) : undefined;
  }

  async open(): Promise<void> {
    this.#closed = false;
    if (!this.#buffer) return;
    await this.#buffer.run(() => this.#buffer!.open());
    // Entries left from before a restart go out first.
    if (this.#buffer.pendingBytes > 0) {
      this.#buffering = true;
      this.#startDrain();
    }
  }

  async write(lines: readonly string[]): Promise<void> {
    const buffer = this.#buffer;
    if (buffer && (await buffer.run(async () => this.#buffering && (await buffer.append(lines), true)))) return this.#startDrain();
    if (!buffer && Date.now() < this.#downUntil) {
      throw new Error(`audit endpoint ${this.#opts.url.origin} is unavailable (next attempt in ${this.#downUntil - Date.now()} ms)`);
    }
    try {
      await this.#postWithRetry(lines);
      this.#markUp();
    } catch (error) {
      this.#markDown();
      if (!buffer) throw error;
      await buffer.run(async () => {
        await buffer.append(lines);
        this.#buffering = true;
      });
      this.#env.logger.warn({ endpoint: this.#opts.url.origin, err: { message: errorMessage(error) } }, 'audit endpoint down: buffering entries on disk');
      this.#startDrain();
    }
  }

  async reopen(): Promise<void> {
    // Nothing to reopen over HTTP; a reload is a good moment to try a down endpoint again.
    this.#downUntil = 0;
    this.#wakeAll();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#wakeAll();
    await this.#draining;
    await this.#buffer?.run(() => this.#buffer!.close());
  }

  #startDrain(): void {
    this.#draining ??= this.#drain().finally(() => (this.#draining = undefined));
  }

  async #drain(): Promise<void> {
    const buffer = this.#buffer!;
    while (!this.#closed) {
      const chunk = await buffer.run(async () => {
        const next = await buffer.read(DRAIN_CHUNK_BYTES);
        if (next) return next;
        // Nothing complete is left: drop a torn last line (from a crash mid-append), switch back to direct writes.
        await buffer.consume(buffer.pendingBytes);
        this.#buffering = false;
        return undefined;
      });
      if (!chunk) return;
      try {
        await this.#post(chunk.lines);
        this.#markUp();
        await buffer.run(() => buffer.consume(chunk.bytes));
      } catch {
        this.#markDown();
        await this.#sleep(this.#cooldownMs);
      }
    }
  }

  async #postWithRetry(lines: readonly string[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#post(lines);
      } catch (error) {
        if (attempt >= this.#opts.maxRetries || this.#closed) throw error;
        await this.#sleep(RETRY_BASE_MS * 2 ** attempt);
      }
    }
  }

  async #post(lines: readonly string[]): Promise<void> {
    const ndjson = this.#opts.batchFormat === 'ndjson';
    const headers = new Headers(this.#opts.headers.map(([k, v]) => [k, v] as [string, string]));
    headers.set('content-type', ndjson ? 'application/x-ndjson' : 'application/json');
    let res: Response;
    try {
      res = await fetch(this.#opts.url, {
        method: 'POST',
        headers,
        body: ndjson ? `${lines.join('\n')}\n` : `[${lines.join(',')}]`,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#opts.timeoutMs),
      });
    } catch (error) {
      // Only the origin: a URL's path or query might carry a collector token.
      throw new Error(`POST to ${this.#opts.url.origin} failed: ${errorMessage(error)}`);
    }
    await res.body?.cancel().catch(() => undefined);
    if (res.status < 200 || res.status >= 300) throw new Error(`POST to ${this.#opts.url.origin} answered ${res.status}`);
  }

  #markUp(): void {
    this.#downUntil = 0;
    this.#cooldownMs = COOLDOWN_MIN_MS;
  }

  #markDown(): void {
    this.#downUntil = Date.now() + this.#cooldownMs;
    this.#cooldownMs = Math.min(this.#cooldownMs * 2, COOLDOWN_MAX_MS);
  }

  /** A wait that close() and reopen() cut short. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#sleepers.add(done);
    });
  }

  #wakeAll(): void {
    for (const wake of [...this.#sleepers]) wake();
  }
}

export const httpDeviceType: DeviceType = {
  options: ['url', 'uri', 'headers', 'batch_format', 'timeout', 'max_retries', 'buffer_path', 'buffer_max_bytes'],
  secretOptions: ['headers'],
  create: (options, env) => new HttpDevice(parseHttpOptions(options), env),
};

export function parseHttpOptions(options: Readonly<Record<string, string>>): HttpDeviceOptions {
  const raw = options['url'] ?? options['uri'];
  if (raw === undefined || raw === '') throw invalid('url is required');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid('url is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid('url must use http or https');
  if (url.username !== '' || url.password !== '') throw invalid('url must not carry credentials; send them in headers');
  const batchFormat = options['batch_format'] ?? 'ndjson';
  if (batchFormat !== 'ndjson' && batchFormat !== 'array') throw invalid('batch_format must be ndjson or array');
  if (batchFormat === 'array' && (options['prefix'] ?? '') !== '') throw invalid('prefix cannot be used with batch_format=array (the batch must stay valid JSON)');
  const timeoutMs = optionalDurationMs(options, 'timeout') ?? 3000;
  if (timeoutMs < 1 || timeoutMs > 60_000) throw invalid('timeout must be between 1ms and 60s');
  const maxRetries = optionalInt(options, 'max_retries') ?? 2;
  if (maxRetries > 10) throw invalid('max_retries must be at most 10');
  const bufferPath = options['buffer_path'];
  const bufferMax = optionalInt(options, 'buffer_max_bytes');
  if ((bufferPath === undefined) !== (bufferMax === undefined)) throw invalid('buffer_path and buffer_max_bytes go together');
  if (bufferPath !== undefined && !isAbsolute(bufferPath)) throw invalid('buffer_path must be an absolute path');
  if (bufferMax !== undefined && bufferMax < 1024) throw invalid('buffer_max_bytes must be at least 1024');
  return {
    url, headers: parseHeaders(options['headers']), batchFormat, timeoutMs, maxRetries,
    buffer: bufferPath === undefined || bufferMax === undefined ? undefined : { path: bufferPath, maxBytes: bufferMax },
  };
}

const RESERVED_HEADERS = new Set(['host', 'content-length', 'content-type', 'transfer-encoding', 'connection']);

/** `{"Authorization": "Splunk <token>"}`, values a string or a list of strings (OpenBao's shape). */
function parseHeaders(text: string | undefined): Array<[string, string]> {
  if (text === undefined || text === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid('headers must be a JSON object, such as {"Authorization": "Splunk <token>"}');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid('headers must be a JSON object');
  const out: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(parsed)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw invalid(`invalid header name ${JSON.stringify(name)}`);
    if (RESERVED_HEADERS.has(name.toLowerCase())) throw invalid(`header ${name} is set by the device`);
    const values = typeof value === 'string' ? [value] : Array.isArray(value) && value.every((v) => typeof v === 'string') ? value as string[] : undefined;
    if (!values) throw invalid(`header ${name} must be a string or a list of strings`);
    for (const v of values) {
      if (/[\r\n\0]/.test(v)) throw invalid(`header ${name} must not contain line breaks`);
      out.push([name, v]);
    }
  }
  return out;
}

function errorMessage(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = e.cause instanceof Error ? `: ${e.cause.message}` : '';
  return `${e.message}${cause}`;
}
