import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Barrier } from '../../src/barrier/index.js';
import { Keyring } from '../../src/barrier/keyring.js';
import { InmemStorage } from '../../src/storage/index.js';
import { PrefixView, frozenJson, getDecoded, putJson } from '../../src/storage/view.js';
import { CofferError } from '../../src/util/errors.js';

const enc = (s: string): Uint8Array => Buffer.from(s);

async function openBarrier(options: { rotationThreshold?: number } = {}) {
  const below = new InmemStorage();
  const barrier = new Barrier(below, options);
  const rootKey = randomBytes(32);
  await barrier.initialize(rootKey);
  return { below, barrier, rootKey };
}

const isTampered = (e: unknown): boolean => e instanceof CofferError && e.code === 'tampered';

test('values round-trip and storage never holds the plaintext', async () => {
  const { below, barrier } = await openBarrier();
  await barrier.put('logical/a', enc('canary-plaintext-1234'));
  assert.equal(Buffer.from((await barrier.get('logical/a'))!).toString(), 'canary-plaintext-1234');
  const raw = Buffer.from((await below.get('logical/a'))!);
  assert.equal(raw.includes(Buffer.from('canary-plaintext-1234')), false);
  assert.equal(raw.readUInt32BE(0), 1, 'term 1');
  assert.equal(raw[4], 2, 'record version 2');
});

test('T1: a flipped bit anywhere in a record fails closed', async () => {
  const { below, barrier } = await openBarrier();
  await barrier.put('logical/flip', enc('secret value'));
  const raw = Buffer.from((await below.get('logical/flip'))!);
  for (let i = 5; i < raw.length; i++) {
    const bad = Buffer.from(raw);
    bad[i] = bad[i]! ^ 0x01;
    await below.put('logical/flip', bad);
    await assert.rejects(barrier.get('logical/flip'), isTampered, `byte ${i}`);
  }
});

test('T1: ciphertext swapped between two paths fails (the path is authenticated)', async () => {
  const { below, barrier } = await openBarrier();
  await barrier.put('logical/x', enc('x-secret'));
  await barrier.put('logical/y', enc('y-secret'));
  const x = (await below.get('logical/x'))!;
  const y = (await below.get('logical/y'))!;
  await below.put('logical/x', y);
  await below.put('logical/y', x);
  await assert.rejects(barrier.get('logical/x'), isTampered);
  await assert.rejects(barrier.get('logical/y'), isTampered);
});

test('T1: truncated records and a changed term byte fail closed', async () => {
  const { below, barrier } = await openBarrier();
  await barrier.put('logical/t', enc('truncate me'));
  const raw = Buffer.from((await below.get('logical/t'))!);
  for (const len of [0, 3, 5, 17, 32, raw.length - 1]) {
    await below.put('logical/t', raw.subarray(0, len));
    await assert.rejects(barrier.get('logical/t'), isTampered, `length ${len}`);
  }
  for (const term of [0, 2, 0xffffffff]) {
    const bad = Buffer.from(raw);
    bad.writeUInt32BE(term, 0);
    await below.put('logical/t', bad);
    await assert.rejects(barrier.get('logical/t'), isTampered, `term ${term}`);
  }
  const badVersion = Buffer.from(raw);
  badVersion[4] = 1;
  await below.put('logical/t', badVersion);
  await assert.rejects(barrier.get('logical/t'), isTampered);
});

test('sealed barrier refuses every operation and a wrong root key does not open it', async () => {
  const { barrier } = await openBarrier();
  await barrier.put('logical/s', enc('v'));
  barrier.seal();
  await assert.rejects(barrier.get('logical/s'), (e: unknown) => e instanceof CofferError && e.code === 'sealed');
  await assert.rejects(barrier.put('logical/s', enc('w')), (e: unknown) => e instanceof CofferError && e.code === 'sealed');
  await assert.rejects(barrier.list('logical/'), (e: unknown) => e instanceof CofferError && e.code === 'sealed');
  await assert.rejects(barrier.unseal(randomBytes(32)), isTampered);
});

test('rotate adds a term; old records stay readable; new ones use the new term', async () => {
  const { below, barrier, rootKey } = await openBarrier();
  await barrier.put('logical/old', enc('old'));
  const status = await barrier.rotate();
  assert.equal(status.term, 2);
  await barrier.put('logical/new', enc('new'));
  assert.equal(Buffer.from((await below.get('logical/new'))!).readUInt32BE(0), 2);
  barrier.seal();
  await barrier.unseal(rootKey);
  assert.equal(Buffer.from((await barrier.get('logical/old'))!).toString(), 'old');
  assert.equal(Buffer.from((await barrier.get('logical/new'))!).toString(), 'new');
  assert.equal(barrier.keyStatus().term, 2);
});

test('automatic rotation happens at the configured encryption threshold, concurrently too', async () => {
  const { barrier } = await openBarrier({ rotationThreshold: 10 });
  await Promise.all(Array.from({ length: 35 }, (_, i) => barrier.put(`logical/k${i}`, enc(String(i)))));
  assert.ok(barrier.keyStatus().term >= 4, `term ${barrier.keyStatus().term}`);
  assert.ok(barrier.keyStatus().encryptions < 10);
  for (let i = 0; i < 35; i++) assert.equal(Buffer.from((await barrier.get(`logical/k${i}`))!).toString(), String(i));
});

test('encryption counts survive a restart and never go backwards', async () => {
  const { barrier, below, rootKey } = await openBarrier();
  for (let i = 0; i < 5; i++) await barrier.put(`logical/c${i}`, enc('v'));
  const before = barrier.keyStatus().encryptions;
  barrier.seal();
  const again = new Barrier(below);
  await again.unseal(rootKey);
  assert.ok(again.keyStatus().encryptions >= before);
});

test('the barrier refuses writes to its own reserved records', async () => {
  const { barrier } = await openBarrier();
  await assert.rejects(barrier.put('core/keyring', enc('x')), TypeError);
  await assert.rejects(barrier.put('core/root-key', enc('x')), TypeError);
});

test('zeroing the keyring overwrites every term key in memory', () => {
  const ring = Keyring.create();
  ring.rotate();
  const buffers = ring.terms.map((t) => t.key);
  assert.ok(buffers.every((b) => b.some((x) => x !== 0)));
  ring.zero();
  assert.ok(buffers.every((b) => b.every((x) => x === 0)));
  assert.equal(ring.terms.length, 0);
});

test('the read cache never serves a value older than the last acknowledged write', async () => {
  const { barrier } = await openBarrier();
  await barrier.put('logical/c', enc('v0'));
  for (let i = 1; i <= 200; i++) {
    // Reads race writes; after each write resolves, a read must see it.
    const reads = [barrier.get('logical/c'), barrier.get('logical/c')];
    await barrier.put('logical/c', enc(`v${i}`));
    await Promise.all(reads);
    assert.equal(Buffer.from((await barrier.get('logical/c'))!).toString(), `v${i}`);
  }
  await barrier.delete('logical/c');
  assert.equal(await barrier.get('logical/c'), undefined);
});

test('decoded records: shared and frozen between writes, never older than the last acknowledged write', async () => {
  const { barrier, below } = await openBarrier();
  let decodes = 0;
  const decoder = frozenJson((raw) => {
    decodes++;
    return raw as { n: number; tags: string[] };
  });
  const view = new PrefixView(barrier, 'logical/');
  await putJson(view, 'd', { n: 0, tags: ['a'] });
  const first = await getDecoded(view, 'd', decoder);
  const again = await getDecoded(view, 'd', decoder);
  assert.deepEqual(first, { n: 0, tags: ['a'] });
  assert.equal(again, first, 'the second read shares the decoded object');
  assert.ok(Object.isFrozen(first) && Object.isFrozen(first!.tags), 'deep-frozen');
  assert.throws(() => { (first as { n: number }).n = 9; }, TypeError);
  assert.equal(decodes, 1);
  // A different decoder of the same record never gets the first one's object.
  const other = frozenJson((raw) => ({ wrapped: raw }));
  assert.deepEqual(await getDecoded(view, 'd', other), { wrapped: { n: 0, tags: ['a'] } });

  for (let i = 1; i <= 100; i++) {
    const reads = [getDecoded(view, 'd', decoder), getDecoded(view, 'd', decoder)];
    await putJson(view, 'd', { n: i, tags: [] });
    await Promise.all(reads);
    assert.equal((await getDecoded(view, 'd', decoder))?.n, i, `after write ${i}`);
  }
  await view.delete('d');
  assert.equal(await getDecoded(view, 'd', decoder), undefined);
  // Without a decoded cache (a plain backend) the same helper decodes every time.
  await putJson(below, 'plain', { n: 1, tags: [] });
  const before = decodes;
  await getDecoded(below, 'plain', decoder);
  await getDecoded(below, 'plain', decoder);
  assert.equal(decodes, before + 2);
  // Sealing drops every decoded object with the bytes.
  barrier.seal();
  await assert.rejects(getDecoded(view, 'd', decoder));
});

test('with the read cache off (disable_cache), every read decrypts and decodes afresh', async () => {
  const below = new InmemStorage();
  const barrier = new Barrier(below, { cacheEntries: 0 });
  await barrier.initialize(randomBytes(32));
  let decodes = 0;
  const decoder = frozenJson((raw) => { decodes++; return raw as { n: number }; });
  await putJson(barrier, 'logical/n', { n: 1 });
  assert.equal((await getDecoded(barrier, 'logical/n', decoder))?.n, 1);
  assert.equal((await getDecoded(barrier, 'logical/n', decoder))?.n, 1);
  assert.equal(decodes, 2);
  // Proof that nothing is cached: a record changed underneath is read as it now is (and here, refused).
  const raw = Buffer.from((await below.get('logical/n'))!);
  raw[raw.length - 1]! ^= 1;
  await below.put('logical/n', raw);
  await assert.rejects(getDecoded(barrier, 'logical/n', decoder), isTampered);
});
