import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseChainLine } from '../../src/audit/line.js';
import { verifyLines } from '../../src/audit/verify.js';
import { startDevServer } from '../helpers/server.js';
import { tmpDir } from '../helpers/tmp.js';
import { eventually } from './device-contract.js';
import { httpReceiver, octetCountedMessages, parseRfc5424, streamReceiver, udpReceiver } from './receivers.js';

const dir = tmpDir('audit-net');

const verified = async (lines: readonly string[]): Promise<void> => {
  const r = await verifyLines(lines.map((text, i) => ({ file: 'received', line: i + 1, text, complete: true })));
  assert.equal(r.issue, undefined, JSON.stringify(r.issue));
};

test('syslog over UDP to a real listener: RFC 5424, facility and tag, a verifiable chain', async () => {
  const s = await startDevServer();
  const udp = await udpReceiver();
  const r = await s.call('PUT', 'sys/audit/syslog', { type: 'syslog', options: { address: `127.0.0.1:${udp.port}`, facility: 'local0', tag: 'coffer' } });
  assert.equal(r.status, 204, JSON.stringify(r.body));
  await s.call('POST', 'secret/data/sl', { data: { v: 'syslog-secret' } });
  await s.call('GET', 'secret/data/sl');
  const messages = await udp.lines(5);
  const parsed = messages.map(parseRfc5424);
  assert.ok(parsed.every((p) => p.pri === 16 * 8 + 6 && p.app === 'coffer' && p.version === '1'));
  const msgs = parsed.map((p) => p.msg);
  assert.ok(msgs.some((m) => m.includes('"path":"secret/data/sl"')));
  assert.ok(!msgs.join('\n').includes('syslog-secret'));
  await verified(msgs);
});

test('syslog over TCP (octet counting) to a real listener', async () => {
  const s = await startDevServer();
  const tcp = await streamReceiver();
  assert.equal((await s.call('PUT', 'sys/audit/syslog', { type: 'syslog', options: { address: `127.0.0.1:${tcp.port}`, protocol: 'tcp' } })).status, 204);
  await s.call('GET', 'secret/config');
  const msgs = await tcp.lines(3, (c) => octetCountedMessages(c).map((m) => parseRfc5424(m).msg));
  assert.equal(parseRfc5424(octetCountedMessages(tcp.chunks)[0]!).pri, 4 * 8 + 6, 'facility AUTH by default, as Vault');
  await verified(msgs);
});

test('http device: endpoint fails → requests fail closed; it recovers → requests succeed, the chain has no gap', async () => {
  const s = await startDevServer();
  const siem = await httpReceiver();
  const enable = await s.call('PUT', 'sys/audit/siem', {
    type: 'http', options: { url: siem.url, headers: JSON.stringify({ Authorization: 'Splunk 00000000-hec-token' }), max_retries: '1' },
  });
  assert.equal(enable.status, 204, JSON.stringify(enable.body));
  assert.equal((await s.call('GET', 'sys/audit')).body.data['siem/'].options.headers, '<redacted>', 'the collector token is not shown');
  assert.equal((await s.call('GET', 'secret/config')).status, 200);

  siem.status = 503;
  for (let i = 0; i < 3; i++) assert.equal((await s.call('GET', 'secret/config')).status, 500);
  siem.status = 200;
  const back = await eventually(() => s.call('GET', 'secret/config'), (r) => r.status === 200, 10_000);
  assert.equal(back.status, 200);
  assert.ok(siem.requests.every((r) => r.headers['authorization'] === 'Splunk 00000000-hec-token'));
  assert.ok(siem.requests.every((r) => r.headers['content-type'] === 'application/x-ndjson'));
  const lines = await siem.lines(5);
  await verified(lines);
});

test('http device with a disk buffer: endpoint down → requests still succeed, entries wait on disk, then arrive in order', async () => {
  const s = await startDevServer();
  const siem = await httpReceiver();
  const buffer = join(dir, 'siem.buffer');
  const enable = await s.call('PUT', 'sys/audit/siem', {
    type: 'http', options: { url: siem.url, buffer_path: buffer, buffer_max_bytes: String(1 << 20), max_retries: '0', batch_format: 'array' },
  });
  assert.equal(enable.status, 204, JSON.stringify(enable.body));
  siem.status = 503;
  for (let i = 0; i < 20; i++) assert.equal((await s.call('GET', 'secret/config')).status, 200, 'buffered entries count as written');
  assert.ok((await stat(buffer)).size > 0);
  assert.ok((await readFile(buffer, 'utf8')).includes('secret/config'));

  siem.status = 200;
  const all = (chunks: string[]): string[] => chunks.flatMap((c) => (JSON.parse(c) as unknown[]).map((e) => JSON.stringify(e)));
  // The enable checkpoint, the enable's response entry (its request came before the device), 40 for the reads.
  const received = await eventually(() => all(siem.chunks), (l) => l.length >= 42, 15_000);
  assert.equal(received.length, 42);
  // The receiver has the entries before the device has its answer and consumes them: wait for that.
  assert.equal((await eventually(async () => (await stat(buffer)).size, (n) => n === 0)), 0, 'the buffer is emptied once sent');
  // Array batches are re-serialized here, so check order and continuity by seq rather than bytes.
  const seqs = received.map((l) => parseChainLine(l)?.seq ?? (JSON.parse(l) as { seq: number }).seq);
  assert.deepEqual(seqs, seqs.map((_, i) => i + 1));
  assert.equal((await s.call('GET', 'secret/config')).status, 200, 'direct writes again');
});

test('http device: a full buffer fails closed', async () => {
  const s = await startDevServer();
  const siem = await httpReceiver();
  assert.equal((await s.call('PUT', 'sys/audit/siem', {
    type: 'http', options: { url: siem.url, buffer_path: join(dir, 'small.buffer'), buffer_max_bytes: '4096', max_retries: '0' },
  })).status, 204);
  siem.status = 503;
  const statuses: number[] = [];
  for (let i = 0; i < 30; i++) statuses.push((await s.call('GET', 'secret/config')).status);
  assert.ok(statuses.includes(200) && statuses.at(-1) === 500, statuses.join(','));
});
