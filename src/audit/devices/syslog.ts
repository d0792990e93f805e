import { hostname } from 'node:os';
import { isAbsolute } from 'node:path';
import { invalid } from '../../util/errors.js';
import { optionalDurationMs } from '../options.js';
import type { AuditDevice, DeviceType } from '../types.js';
import { DatagramConnection, StreamConnection, parseHostPort } from './connection.js';

/** RFC 5424 §6.2.1 facility codes. */
const FACILITIES: Readonly<Record<string, number>> = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9, authpriv: 10, ftp: 11,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
};
/** Severity "informational". */
const SEVERITY_INFO = 6;

export interface SyslogDeviceOptions {
  /** host:port of a collector; undefined means the local socket. */
  readonly address: string | undefined;
  readonly protocol: 'udp' | 'tcp';
  /** The local syslog socket (a stream socket) when there is no address. */
  readonly socketPath: string;
  readonly facility: number;
  readonly tag: string;
  /** TCP framing (RFC 6587): octet counting, or one message per line. */
  readonly framing: 'octet-counting' | 'non-transparent';
  readonly writeTimeoutMs: number;
}

/**
 * RFC 5424 messages, one per entry, to a collector over UDP (one datagram each) or TCP (RFC 6587
 * framing, one write per batch), or to the local syslog socket. Node cannot write to unix
 * *datagram* sockets, so the local socket must be a stream socket (rsyslog `imuxsock` with
 * `SysSock.Unlink`/syslog-ng `unix-stream()`); otherwise point `address` at the daemon's port.
 */
export class SyslogDevice implements AuditDevice {
  readonly #opts: SyslogDeviceOptions;
  readonly #header: string;
  readonly #stream: StreamConnection | undefined;
  readonly #dgram: DatagramConnection | undefined;

  constructor(opts: SyslogDeviceOptions) {
    this.#opts = opts;
    // Everything but the timestamp is the same for every message: built once.
    this.#header = ` ${sanitize(hostname(), 255)} ${sanitize(opts.tag, 48)} ${process.pid} - -`;
    if (opts.address === undefined) {
      this.#stream = new StreamConnection({ kind: 'unix', path: opts.socketPath }, opts.writeTimeoutMs);
    } else {
      const { host, port } = parseHostPort(opts.address);
      if (opts.protocol === 'udp') this.#dgram = new DatagramConnection(host, port);
      else this.#stream = new StreamConnection({ kind: 'tcp', host, port }, opts.writeTimeoutMs);
    }
  }

  async open(): Promise<void> {
    await (this.#stream ?? this.#dgram)?.connect();
  }

  async write(lines: readonly string[]): Promise<void> {
    const pri = `<${this.#opts.facility * 8 + SEVERITY_INFO}>1 `;
    const messages = lines.map((l) => `${pri}${new Date().toISOString()}${this.#header} ${l}`);
    if (this.#dgram) return this.#dgram.send(messages);
    const framed = this.#opts.framing === 'octet-counting'
      ? messages.map((m) => `${Buffer.byteLength(m, 'utf8')} ${m}`).join('')
      : messages.map((m) => `${m}\n`).join('');
    await this.#stream?.write(framed);
  }

  async reopen(): Promise<void> {
    await this.close();
    await this.open();
  }

  async close(): Promise<void> {
    await (this.#stream ?? this.#dgram)?.close();
  }
}

export const syslogDeviceType: DeviceType = {
  options: ['address', 'protocol', 'socket_path', 'facility', 'tag', 'framing', 'write_timeout'],
  create: (options) => new SyslogDevice(parseSyslogOptions(options)),
};

export function parseSyslogOptions(options: Readonly<Record<string, string>>): SyslogDeviceOptions {
  const address = options['address'] === '' ? undefined : options['address'];
  if (address !== undefined) parseHostPort(address);
  const protocol = (options['protocol'] ?? 'udp').toLowerCase();
  if (protocol !== 'udp' && protocol !== 'tcp') throw invalid('protocol must be udp or tcp');
  const socketPath = options['socket_path'] ?? '/dev/log';
  if (!isAbsolute(socketPath)) throw invalid('socket_path must be an absolute path');
  const facilityName = (options['facility'] ?? 'AUTH').toLowerCase();
  const facility = FACILITIES[facilityName];
  if (facility === undefined) throw invalid(`unknown syslog facility ${JSON.stringify(options['facility'])} (known: ${Object.keys(FACILITIES).join(', ')})`);
  const tag = options['tag'] ?? 'coffer';
  if (!/^[\x21-\x7e]{1,48}$/.test(tag)) throw invalid('tag must be 1 to 48 printable ASCII characters without spaces');
  const framing = options['framing'] ?? 'octet-counting';
  if (framing !== 'octet-counting' && framing !== 'non-transparent') throw invalid('framing must be octet-counting or non-transparent');
  const writeTimeoutMs = optionalDurationMs(options, 'write_timeout') ?? 2000;
  if (writeTimeoutMs < 1 || writeTimeoutMs > 60_000) throw invalid('write_timeout must be between 1ms and 60s');
  return { address, protocol, socketPath, facility, tag, framing, writeTimeoutMs };
}

/** RFC 5424 header fields are printable US-ASCII without spaces. */
function sanitize(text: string, max: number): string {
  const s = text.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return s === '' ? '-' : s;
}
