import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileDevice } from '../../src/audit/devices/file.js';
import { HttpDevice, parseHttpOptions } from '../../src/audit/devices/http.js';
import { SocketDevice, parseSocketOptions } from '../../src/audit/devices/socket.js';
import { SyslogDevice, parseSyslogOptions } from '../../src/audit/devices/syslog.js';
import { createLogger } from '../../src/util/logger.js';
import { tmpDir } from '../helpers/tmp.js';
import { deviceContract, eventually } from './device-contract.js';
import { closedPort, httpReceiver, octetCountedMessages, parseRfc5424, streamReceiver, udpReceiver } from './receivers.js';

const env = { logger: createLogger('silent') };
let n = 0;
const dir = tmpDir('audit-devices');

async function fileLines(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const lines = text.split('\n');
  lines.pop();
  return lines;
}

deviceContract('file', async () => {
  const path = join(dir, `contract-${++n}.log`);
  return {
    device: new FileDevice({ path, mode: 0o600, fsync: false }),
    received: (k) => eventually(() => fileLines(path), (l) => l.length >= k),
    broken: () => new FileDevice({ path: '/dev/full', mode: 0, fsync: false }),
  };
});

deviceContract('file (fsync)', async () => {
  const path = join(dir, `contract-${++n}.log`);
  return {
    device: new FileDevice({ path, mode: 0o600, fsync: true }),
    received: (k) => eventually(() => fileLines(path), (l) => l.length >= k),
    broken: () => new FileDevice({ path: '/dev/full', mode: 0, fsync: true }),
  };
});

deviceContract('socket tcp', async () => {
  const r = await streamReceiver();
  const down = await closedPort();
  return {
    device: new SocketDevice(parseSocketOptions({ address: `127.0.0.1:${r.port}` })),
    received: (k) => r.lines(k),
    broken: () => new SocketDevice(parseSocketOptions({ address: `127.0.0.1:${down}` })),
  };
});

deviceContract('socket unix', async () => {
  const path = join(dir, `s-${++n}.sock`);
  const r = await streamReceiver(path);
  return {
    device: new SocketDevice(parseSocketOptions({ address: path, socket_type: 'unix' })),
    received: (k) => r.lines(k),
    broken: () => new SocketDevice(parseSocketOptions({ address: join(dir, 'nobody-listens.sock'), socket_type: 'unix' })),
  };
});

deviceContract('socket udp', async () => {
  const r = await udpReceiver();
  return {
    device: new SocketDevice(parseSocketOptions({ address: `127.0.0.1:${r.port}`, socket_type: 'udp' })),
    received: (k) => r.lines(k),
    burst: 100,
  };
});

const syslogMsgs = (messages: string[]): string[] => messages.map((m) => parseRfc5424(m).msg);

deviceContract('syslog tcp', async () => {
  const r = await streamReceiver();
  const down = await closedPort();
  return {
    device: new SyslogDevice(parseSyslogOptions({ address: `127.0.0.1:${r.port}`, protocol: 'tcp' })),
    received: (k) => r.lines(k, (c) => syslogMsgs(octetCountedMessages(c))),
    broken: () => new SyslogDevice(parseSyslogOptions({ address: `127.0.0.1:${down}`, protocol: 'tcp' })),
  };
});

deviceContract('syslog udp', async () => {
  const r = await udpReceiver();
  return {
    device: new SyslogDevice(parseSyslogOptions({ address: `127.0.0.1:${r.port}` })),
    received: (k) => r.lines(k, (c) => syslogMsgs(c)),
    burst: 100,
  };
});

deviceContract('http', async () => {
  const r = await httpReceiver();
  const bad = await httpReceiver();
  bad.status = 503;
  return {
    device: new HttpDevice(parseHttpOptions({ url: r.url }), env),
    received: (k) => r.lines(k),
    broken: () => new HttpDevice(parseHttpOptions({ url: bad.url, max_retries: '1' }), env),
  };
});

deviceContract('http (with disk buffer)', async () => {
  const r = await httpReceiver();
  const buffer = join(dir, `buf-${++n}`);
  return {
    device: new HttpDevice(parseHttpOptions({ url: r.url, buffer_path: buffer, buffer_max_bytes: '1048576' }), env),
    received: (k) => r.lines(k),
    // A full buffer is the one way a buffered device fails.
    broken: () => new HttpDevice(parseHttpOptions({ url: 'http://127.0.0.1:9/', max_retries: '0', buffer_path: '/dev/full', buffer_max_bytes: '1024' }), env),
  };
});

test('file: fsync is shared by concurrent entries (group commit): far fewer syncs than entries', async () => {
  const { ChainedDevice } = await import('../../src/audit/chain.js');
  const device = new FileDevice({ path: join(dir, 'group.log'), mode: 0o600, fsync: true });
  const chain = new ChainedDevice(device, { chain: 'c', device: 'f/', key: Buffer.alloc(32, 1) }, { seq: 0, hash: '0'.repeat(64) }, 'enable',
    { prefix: '', checkpointEntries: 10_000, checkpointIntervalMs: 3_600_000 }, { onCheckpoint: () => {}, onBackgroundError: () => {} });
  await Promise.all(Array.from({ length: 500 }, (_, i) => chain.append(`{"i":${i}}`)));
  await chain.close('seal');
  assert.equal((await fileLines(join(dir, 'group.log'))).length, 502);
  assert.equal(device.stats.syncs, device.stats.writes, 'every write is synced before its entries are acknowledged');
  assert.ok(device.stats.syncs < 100, `500 concurrent entries took ${device.stats.syncs} fsyncs`);
});

test('file: a new file gets mode 0600, an existing looser one is tightened', async () => {
  const { stat, writeFile } = await import('node:fs/promises');
  const fresh = join(dir, 'mode-new.log');
  const d1 = new FileDevice({ path: fresh, mode: 0o600, fsync: false });
  await d1.write(['{}']);
  await d1.close();
  assert.equal((await stat(fresh)).mode & 0o777, 0o600);
  const loose = join(dir, 'mode-old.log');
  await writeFile(loose, '', { mode: 0o644 });
  const d2 = new FileDevice({ path: loose, mode: 0o600, fsync: false });
  await d2.open();
  await d2.close();
  assert.equal((await stat(loose)).mode & 0o777, 0o600);
});

test('syslog: RFC 5424 header with the facility, severity info, tag and pid', async () => {
  const r = await udpReceiver();
  const d = new SyslogDevice(parseSyslogOptions({ address: `127.0.0.1:${r.port}`, facility: 'local3', tag: 'coffer-audit' }));
  await d.write(['{"seq":1}']);
  const [m] = await r.lines(1);
  const p = parseRfc5424(m!);
  assert.equal(p.pri, 19 * 8 + 6);
  assert.equal(p.version, '1');
  assert.ok(!Number.isNaN(Date.parse(p.timestamp)));
  assert.equal(p.app, 'coffer-audit');
  assert.equal(p.procid, String(process.pid));
  assert.equal(p.msg, '{"seq":1}');
  await d.close();
});

test('syslog tcp: non-transparent framing puts one message per line', async () => {
  const r = await streamReceiver();
  const d = new SyslogDevice(parseSyslogOptions({ address: `127.0.0.1:${r.port}`, protocol: 'tcp', framing: 'non-transparent' }));
  await d.write(['{"a":1}', '{"b":2}']);
  const lines = await r.lines(2);
  assert.deepEqual(lines.map((l) => parseRfc5424(l).msg), ['{"a":1}', '{"b":2}']);
  await d.close();
});

test('socket: a collector that stops reading makes writes fail within write_timeout, not hang', async () => {
  const r = await streamReceiver();
  r.server.on('connection', (s) => s.pause());
  const d = new SocketDevice(parseSocketOptions({ address: `127.0.0.1:${r.port}`, write_timeout: '200ms' }));
  const big = 'x'.repeat(1 << 20);
  let failed: unknown;
  for (let i = 0; i < 64 && failed === undefined; i++) await d.write([big]).catch((e: unknown) => (failed = e));
  assert.match(String(failed), /timed out/);
  await d.close();
});

test('socket: reconnects after the collector restarts', async () => {
  const r = await streamReceiver();
  const d = new SocketDevice(parseSocketOptions({ address: `127.0.0.1:${r.port}` }));
  await d.write(['{"one":1}']);
  await r.lines(1);
  for (const s of r.sockets) s.destroy();
  await eventually(() => r.sockets.size, (size) => size === 0);
  // The broken connection is noticed and the next write opens a new one.
  await eventually(async () => d.write(['{"two":2}']).then(() => true, () => false), (ok) => ok);
  assert.ok((await r.lines(2)).includes('{"two":2}'));
  await d.close();
});

test('option validation: bad values are refused with a message naming the option', () => {
  assert.throws(() => parseHttpOptions({ url: 'ftp://example.com/' }), /http or https/);
  assert.throws(() => parseHttpOptions({ url: 'https://user:pw@example.com/' }), /credentials/);
  assert.throws(() => parseHttpOptions({ url: 'https://example.com/', headers: '{"Host":"x"}' }), /set by the device/);
  assert.throws(() => parseHttpOptions({ url: 'https://example.com/', buffer_path: '/tmp/b' }), /go together/);
  assert.throws(() => parseSocketOptions({ address: 'nohost' }), /host:port/);
  assert.throws(() => parseSocketOptions({ address: 'rel.sock', socket_type: 'unix' }), /absolute/);
  assert.throws(() => parseSyslogOptions({ facility: 'nope' }), /facility/);
  assert.throws(() => parseSyslogOptions({ tag: 'has space' }), /tag/);
});
