import { isAbsolute } from 'node:path';
import { invalid } from '../../util/errors.js';
import { optionalDurationMs } from '../options.js';
import type { AuditDevice, DeviceType } from '../types.js';
import { DatagramConnection, StreamConnection, parseHostPort } from './connection.js';

export type SocketType = 'tcp' | 'udp' | 'unix';

export interface SocketDeviceOptions {
  readonly address: string;
  readonly socketType: SocketType;
  readonly writeTimeoutMs: number;
}

/**
 * Vault's socket device: newline-delimited entries to a TCP or unix stream (one write per
 * batch), or one UDP datagram per entry. It connects lazily and reconnects on the next write
 * after the connection broke.
 */
export class SocketDevice implements AuditDevice {
  readonly #stream: StreamConnection | undefined;
  readonly #dgram: DatagramConnection | undefined;

  constructor(options: SocketDeviceOptions) {
    if (options.socketType === 'udp') {
      const { host, port } = parseHostPort(options.address);
      this.#dgram = new DatagramConnection(host, port);
    } else {
      const target = options.socketType === 'unix' ? { kind: 'unix' as const, path: options.address } : { kind: 'tcp' as const, ...parseHostPort(options.address) };
      this.#stream = new StreamConnection(target, options.writeTimeoutMs);
    }
  }

  async open(): Promise<void> {
    await (this.#stream ?? this.#dgram)?.connect();
  }

  async write(lines: readonly string[]): Promise<void> {
    if (this.#dgram) return this.#dgram.send(lines);
    await this.#stream?.write(`${lines.join('\n')}\n`);
  }

  async reopen(): Promise<void> {
    await this.close();
    await this.open();
  }

  async close(): Promise<void> {
    await (this.#stream ?? this.#dgram)?.close();
  }
}

export const socketDeviceType: DeviceType = {
  options: ['address', 'socket_type', 'write_timeout'],
  create: (options) => new SocketDevice(parseSocketOptions(options)),
};

export function parseSocketOptions(options: Readonly<Record<string, string>>): SocketDeviceOptions {
  const address = options['address'];
  if (address === undefined || address === '') throw invalid('address is required');
  const socketType = (options['socket_type'] ?? 'tcp').toLowerCase();
  if (socketType !== 'tcp' && socketType !== 'udp' && socketType !== 'unix') throw invalid('socket_type must be tcp, udp or unix');
  if (socketType === 'unix' && !isAbsolute(address)) throw invalid('a unix socket address must be an absolute path');
  if (socketType !== 'unix') parseHostPort(address);
  const writeTimeoutMs = optionalDurationMs(options, 'write_timeout') ?? 2000;
  if (writeTimeoutMs < 1 || writeTimeoutMs > 60_000) throw invalid('write_timeout must be between 1ms and 60s');
  return { address, socketType, writeTimeoutMs };
}
