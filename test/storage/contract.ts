import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Storage } from '../../src/storage/index.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));

/**
 * The one contract every storage backend passes (sqlite, inmem, postgresql).
 * `make` returns a fresh, empty backend; `reopen`, when given, closes and reopens the same data.
 */
export function storageContract(name: string, make: () => Promise<Storage>, reopen?: (s: Storage) => Promise<Storage>): void {
  describe(`storage contract: ${name}`, () => {
    let s: Storage;
    before(async () => { s = await make(); });
    after(async () => { await s.close(); });

    test('get of a missing key is undefined', async () => {
      assert.equal(await s.get('missing/key'), undefined);
    });

    test('put then get returns the same bytes, put overwrites', async () => {
      await s.put('a/b', enc('one'));
      assert.equal(dec(await s.get('a/b')), 'one');
      await s.put('a/b', enc('two'));
      assert.equal(dec(await s.get('a/b')), 'two');
    });

    test('binary values round-trip exactly, including empty', async () => {
      const bytes = new Uint8Array(256).map((_, i) => i);
      await s.put('bin/all', bytes);
      assert.deepEqual(await s.get('bin/all'), bytes);
      await s.put('bin/empty', new Uint8Array(0));
      assert.deepEqual(await s.get('bin/empty'), new Uint8Array(0));
    });

    test('a returned value is not aliased to storage', async () => {
      await s.put('alias/x', enc('abc'));
      const got = await s.get('alias/x');
      assert.ok(got);
      got[0] = 0;
      assert.equal(dec(await s.get('alias/x')), 'abc');
    });

    test('delete removes; deleting a missing key is fine', async () => {
      await s.put('del/x', enc('1'));
      await s.delete('del/x');
      assert.equal(await s.get('del/x'), undefined);
      await s.delete('del/never');
    });

    test('list gives direct children, folders once with a trailing slash, sorted', async () => {
      for (const k of ['l/a', 'l/b/c', 'l/b/d', 'l/b/e/f', 'l/c', 'l/c/x', 'l/d', 'lx/no', 'l0/no']) await s.put(k, enc('v'));
      assert.deepEqual(await s.list('l/'), ['a', 'b/', 'c', 'c/', 'd']);
      assert.deepEqual(await s.list('l/b/'), ['c', 'd', 'e/']);
      assert.deepEqual(await s.list('l/nothing/'), []);
    });

    test('list: names that sort just before and after a folder\'s "/" (".", "-", "0")', async () => {
      for (const k of ['n/a', 'n/a-b', 'n/a.c', 'n/a/x', 'n/a/y/z', 'n/a0', 'n/a0/q', 'n/b']) await s.put(k, enc('v'));
      assert.deepEqual(await s.list('n/'), ['a', 'a-b', 'a.c', 'a/', 'a0', 'a0/', 'b']);
      assert.deepEqual(await s.list('n/a/'), ['x', 'y/']);
    });

    test('list of the root prefix', async () => {
      await s.put('toplevel', enc('t'));
      assert.equal(dec(await s.get('toplevel')), 't');
      const top = await s.list('');
      assert.ok(top.includes('toplevel'), 'a key without a folder is a leaf of the root');
      for (const k of ['a/', 'l/', 'lx/', 'l0/']) assert.ok(top.includes(k), `root listing has ${k}`);
    });

    test('list sees deletes', async () => {
      await s.put('ld/a/1', enc('v'));
      await s.put('ld/b', enc('v'));
      await s.delete('ld/a/1');
      assert.deepEqual(await s.list('ld/'), ['b']);
    });

    test('list of a large folder', async () => {
      const ops = [];
      for (let i = 0; i < 2000; i++) ops.push({ kind: 'put' as const, key: `big/k${String(i).padStart(5, '0')}${i % 2 ? '/sub' : ''}`, value: enc('v') });
      await s.transaction(ops);
      const l = await s.list('big/');
      assert.equal(l.length, 2000);
      assert.equal(l[1], 'k00001/');
    });

    test('unicode keys', async () => {
      await s.put('u/é', enc('1'));
      await s.put('u/日本/語', enc('2'));
      assert.deepEqual((await s.list('u/')).sort(), ['é', '日本/'].sort());
      assert.equal(dec(await s.get('u/日本/語')), '2');
    });

    test('transaction applies all ops', async () => {
      await s.put('tx/old', enc('x'));
      await s.transaction([
        { kind: 'put', key: 'tx/a', value: enc('1') },
        { kind: 'put', key: 'tx/b', value: enc('2') },
        { kind: 'delete', key: 'tx/old' },
      ]);
      assert.deepEqual(await s.list('tx/'), ['a', 'b']);
    });

    test('a transaction with an invalid op applies nothing', async () => {
      await assert.rejects(s.transaction([
        { kind: 'put', key: 'txf/a', value: enc('1') },
        { kind: 'put', key: '/bad', value: enc('2') },
      ]));
      assert.equal(await s.get('txf/a'), undefined);
    });

    test('invalid keys and prefixes are programmer errors', async () => {
      await assert.rejects(s.get(''), TypeError);
      await assert.rejects(s.put('/abs', enc('x')), TypeError);
      await assert.rejects(s.put('a//b', enc('x')), TypeError);
      await assert.rejects(s.list('noslash'), TypeError);
    });

    test('concurrent puts are all kept', async () => {
      await Promise.all(Array.from({ length: 100 }, (_, i) => s.put(`conc/${i}`, enc(String(i)))));
      assert.equal((await s.list('conc/')).length, 100);
    });

    if (reopen) {
      test('data survives close and reopen', async () => {
        await s.put('persist/x', enc('kept'));
        s = await reopen(s);
        assert.equal(dec(await s.get('persist/x')), 'kept');
      });
    }
  });
}
