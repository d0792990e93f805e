import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { ChainedDevice } from '../../src/audit/chain.js';
import { GENESIS_HASH, parseChainLine } from '../../src/audit/line.js';
import type { AuditDevice, StoredCheckpoint } from '../../src/audit/types.js';
import { verifyLines } from '../../src/audit/verify.js';

/** One device under test, with a way to see what reached its destination. */
export interface Harness {
  readonly device: AuditDevice;
  /** The lines that arrived so far, in arrival order, waiting (bounded) until at least `n` did. */
  received(n: number): Promise<string[]>;
  /**
   * A device of the same kind whose destination cannot take writes (closed port, full disk,
   * 500s); undefined for UDP, where a lost datagram cannot be noticed reliably.
   */
  broken?(): AuditDevice;
  /** How many concurrent entries the receiver can take at once (UDP receivers drop bursts beyond their buffer). */
  readonly burst?: number;
}

/** Waits until `check` passes or the deadline; the deadline only guards against hangs, it is not what is tested. */
export async function eventually<T>(get: () => T | Promise<T>, check: (v: T) => boolean, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (check(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
}

const entry = (i: number): string => JSON.stringify({ type: 'request', n: i, note: `entry ${i} ünïcødé` });

function chainOver(device: AuditDevice, checkpoints: StoredCheckpoint[] = []): ChainedDevice {
  return new ChainedDevice(
    device,
    { chain: 'contract-chain', device: 'contract/', key: randomBytes(32) },
    { seq: 0, hash: GENESIS_HASH },
    'enable',
    { prefix: '', checkpointEntries: 50, checkpointIntervalMs: 3_600_000 },
    { onCheckpoint: (cp) => checkpoints.push(cp), onBackgroundError: () => {} },
  );
}

/**
 * The audit device contract, run against every device (DESIGN: one suite for every
 * implementation): lines arrive complete and in order, concurrent entries are chained without
 * gaps, a device that cannot write says so, close lets everything out, reopen keeps going.
 */
export function deviceContract(name: string, make: () => Promise<Harness>): void {
  test(`${name}: lines written one batch after another arrive whole and in order`, async () => {
    const h = await make();
    await h.device.open();
    await h.device.write(['{"a":1}', '{"b":"two"}']);
    await h.device.write(['{"c":"ünï"}']);
    await h.device.write(Array.from({ length: 20 }, (_, i) => `{"i":${i}}`));
    const got = await h.received(23);
    assert.deepEqual(got, ['{"a":1}', '{"b":"two"}', '{"c":"ünï"}', ...Array.from({ length: 20 }, (_, i) => `{"i":${i}}`)]);
    await h.device.close();
  });

  test(`${name}: concurrent entries through the chain arrive numbered without gaps and verify`, async () => {
    const h = await make();
    const count = h.burst ?? 300;
    await h.device.open();
    const checkpoints: StoredCheckpoint[] = [];
    const chain = chainOver(h.device, checkpoints);
    await Promise.all(Array.from({ length: count }, (_, i) => chain.append(entry(i))));
    await chain.close('seal');
    // The entries, the opening checkpoint, one every 50 entries, the closing one.
    const intervals = Math.floor(count / 50);
    const total = count + intervals + 2;
    const got = await h.received(total);
    assert.equal(got.length, total);
    const parsed = got.map((l) => parseChainLine(l));
    assert.deepEqual(parsed.map((p) => p?.seq), Array.from({ length: total }, (_, i) => i + 1));
    assert.ok(parsed.every((p) => p?.intact));
    const ns = parsed.filter((p) => p?.entry['type'] === 'request').map((p) => p?.entry['n']);
    assert.deepEqual([...ns].sort((a, b) => Number(a) - Number(b)), Array.from({ length: count }, (_, i) => i));
    const report = await verifyLines(got.map((text, i) => ({ file: name, line: i + 1, text, complete: true })));
    assert.equal(report.issue, undefined);
    assert.deepEqual(checkpoints.map((c) => c.reason), ['enable', ...Array<string>(intervals).fill('interval'), 'seal']);
    assert.equal(checkpoints.at(-1)?.seq, total);
  });

  test(`${name}: a device that cannot write rejects, and the chain writes nothing for it`, async (t) => {
    const h = await make();
    if (!h.broken) return t.skip('a datagram device cannot tell that a datagram was lost');
    const broken = h.broken();
    await broken.open().catch(() => undefined);
    await assert.rejects(broken.write(['{"x":1}']));
    const chain = chainOver(broken);
    const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => chain.append(entry(i))));
    assert.ok(results.every((r) => r.status === 'rejected'), 'every entry of a failed write is reported as not written');
    // Nothing was written, so nothing was numbered: the chain is still at its start.
    assert.equal(chain.head.seq, 0);
    await chain.close('seal').catch(() => undefined);
  });

  test(`${name}: close lets every accepted line out`, async () => {
    const h = await make();
    await h.device.open();
    const chain = chainOver(h.device);
    const writes = Array.from({ length: 40 }, (_, i) => chain.append(entry(i)));
    await chain.close('seal');
    await Promise.all(writes);
    const got = await h.received(42);
    assert.equal(got.length, 42);
    assert.equal(parseChainLine(got.at(-1)!)?.entry['reason'], 'seal');
  });

  test(`${name}: reopen keeps the device writing`, async () => {
    const h = await make();
    await h.device.open();
    await h.device.write(['{"before":1}']);
    await h.device.reopen();
    await h.device.write(['{"after":1}']);
    assert.deepEqual(await h.received(2), ['{"before":1}', '{"after":1}']);
    await h.device.close();
  });
}
