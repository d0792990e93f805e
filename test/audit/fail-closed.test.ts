import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { verifyFiles } from '../../src/audit/verify-files.js';
import { startDevServer } from '../helpers/server.js';
import { tmpDir } from '../helpers/tmp.js';
import { eventually } from './device-contract.js';
import { enableFile, entriesFor, pool, readLog } from './helpers.js';
import { streamReceiver } from './receivers.js';

// SECURITY.md T4: audit fails closed. No device could write → no secret leaves; one broken
// device among healthy ones blocks nothing and the healthy one has every entry.

const dir = tmpDir('audit-t4');
const SECRET = 'T4-canary-secret-value-8c1f';
const READS = 1000;

async function readAll(s: Awaited<ReturnType<typeof startDevServer>>): Promise<Array<{ status: number; body: unknown }>> {
  return pool(READS, 50, () => s.call('GET', 'secret/data/t4'));
}

test('T4: the only device (a socket collector) goes down → 0 of 1000 reads return the secret', async () => {
  const s = await startDevServer();
  assert.equal((await s.call('POST', 'secret/data/t4', { data: { value: SECRET } })).status, 200);
  const collector = await streamReceiver();
  const enable = await s.call('PUT', 'sys/audit/siem', { type: 'socket', options: { address: `127.0.0.1:${collector.port}`, write_timeout: '500ms' } });
  assert.equal(enable.status, 204, JSON.stringify(enable.body));
  const ok = await s.call('GET', 'secret/data/t4');
  assert.equal(ok.body.data.data.value, SECRET, 'served while the collector is up');
  await collector.lines(3);

  await collector.close();
  await eventually(() => collector.sockets.size, (n) => n === 0);
  const results = await readAll(s);
  const leaked = results.filter((r) => JSON.stringify(r.body).includes(SECRET));
  assert.equal(leaked.length, 0, `${leaked.length} of ${READS} reads returned the secret`);
  assert.ok(results.every((r) => r.status === 500), `statuses: ${[...new Set(results.map((r) => r.status))].join(',')}`);
  assert.deepEqual(results[0]!.body, { errors: ['internal error'] });
  // Fail-closed holds for everything, the sys endpoints included.
  assert.equal((await s.call('GET', 'sys/audit')).status, 500);
});

test('T4: the only device is a file on a full disk → 0 of 1000 reads return the secret', async () => {
  const s = await startDevServer();
  assert.equal((await s.call('POST', 'secret/data/t4', { data: { value: SECRET } })).status, 200);
  // skip_test bypasses the probe, so the broken device does get enabled; its own enable
  // response cannot be audited and already fails closed.
  const enable = await s.call('PUT', 'sys/audit/disk', { type: 'file', options: { file_path: '/dev/full', skip_test: 'true' } });
  assert.equal(enable.status, 500);
  const results = await readAll(s);
  assert.equal(results.filter((r) => JSON.stringify(r.body).includes(SECRET)).length, 0);
  assert.ok(results.every((r) => r.status === 500 && JSON.stringify(r.body) === '{"errors":["internal error"]}'));
});

test('T4: two devices, one broken → 1000 of 1000 reads succeed and the healthy one has every entry', async () => {
  const s = await startDevServer();
  assert.equal((await s.call('POST', 'secret/data/t4', { data: { value: SECRET } })).status, 200);
  const healthy = join(dir, 'healthy.log');
  await enableFile(s, 'healthy', healthy);
  assert.equal((await s.call('PUT', 'sys/audit/disk', { type: 'file', options: { file_path: '/dev/full', skip_test: 'true' } })).status, 204);
  const results = await readAll(s);
  assert.equal(results.filter((r) => r.status === 200 && JSON.stringify(r.body).includes(SECRET)).length, READS);
  const log = await readLog(healthy);
  const reads = entriesFor(log, 'secret/data/t4').filter((e) => (e['request'] as { operation: string }).operation === 'read');
  assert.equal(reads.filter((e) => e['type'] === 'request').length, READS);
  assert.equal(reads.filter((e) => e['type'] === 'response').length, READS);
  assert.equal(new Set(reads.map((e) => (e['request'] as { id: string }).id)).size, READS);
  assert.equal((await verifyFiles([healthy])).issue, undefined);
});

test('T4: a collector that comes back is used again, and requests succeed again', async () => {
  const s = await startDevServer();
  const collector = await streamReceiver();
  const port = collector.port;
  assert.equal((await s.call('PUT', 'sys/audit/siem', { type: 'socket', options: { address: `127.0.0.1:${port}` } })).status, 204);
  await collector.close();
  await eventually(() => collector.sockets.size, (n) => n === 0);
  assert.equal((await s.call('GET', 'secret/config')).status, 500);
  const { createServer } = await import('node:net');
  const received: string[] = [];
  const again = createServer((c) => c.on('data', (d: Buffer) => received.push(d.toString())));
  await new Promise<void>((resolve) => again.listen(port, '127.0.0.1', resolve));
  // A failed collector is retried after a short cooldown, not on every write.
  assert.equal((await eventually(() => s.call('GET', 'secret/config'), (r) => r.status === 200)).status, 200);
  await eventually(() => received.join(''), (t) => t.includes('secret/config'));
  // Closing the server closes its audit connection, which lets the listener close.
  await s.server.close();
  await new Promise<void>((resolve) => again.close(() => resolve()));
});
