import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PrefixView } from '../../src/storage/view.js';
import { startDevServer } from '../helpers/server.js';

const s = await startDevServer();
const core = s.server.core;
await core.secrets.mount({ path: 'kv/', type: 'kv' });
await core.secrets.mount({ path: 'kv1/', type: 'kv', options: { version: '1' } });

test('a kv mount without a version is version 1: write, read, overwrite, delete', async () => {
  for (const mount of ['kv', 'kv1']) {
    assert.equal((await s.call('POST', `${mount}/app/db`, { user: 'alice', nested: { n: 1 }, list: [1, 'a'] })).status, 204);
    let r = await s.call('GET', `${mount}/app/db`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.data, { user: 'alice', nested: { n: 1 }, list: [1, 'a'] });
    assert.equal(r.body.lease_id, '');
    assert.equal(r.body.renewable, false);
    assert.equal(r.body.mount_type, 'kv');

    assert.equal((await s.call('PUT', `${mount}/app/db`, { user: 'bob' })).status, 204);
    assert.deepEqual((await s.call('GET', `${mount}/app/db`)).body.data, { user: 'bob' }, 'a write replaces the whole secret');

    assert.equal((await s.call('DELETE', `${mount}/app/db`)).status, 204);
    r = await s.call('GET', `${mount}/app/db`);
    assert.equal(r.status, 404);
    assert.deepEqual(r.body, { errors: [] });
    assert.equal((await s.call('DELETE', `${mount}/app/db`)).status, 204, 'deleting a missing secret is not an error');
  }
});

test('read lease_duration: the secret\'s ttl (or lease) key, else the mount default', async () => {
  await s.call('POST', 'kv/ttl/none', { a: 1 });
  await s.call('POST', 'kv/ttl/hour', { a: 1, ttl: '1h' });
  await s.call('POST', 'kv/ttl/seconds', { a: 1, ttl: 90 });
  await s.call('POST', 'kv/ttl/lease', { a: 1, lease: '30m' });
  await s.call('POST', 'kv/ttl/junk', { a: 1, ttl: 'soon' });
  const ttl = async (p: string) => (await s.call('GET', `kv/ttl/${p}`)).body.lease_duration;
  assert.equal(await ttl('none'), 2764800);
  assert.equal(await ttl('hour'), 3600);
  assert.equal(await ttl('seconds'), 90);
  assert.equal(await ttl('lease'), 1800);
  assert.equal(await ttl('junk'), 2764800, 'an unparsable ttl falls back to the default');
  assert.equal((await s.call('GET', 'kv/ttl/hour')).body.data.ttl, '1h', 'the ttl key is returned as data too');

  await core.secrets.tune('kv/', { default_lease_ttl: 600 });
  try {
    assert.equal(await ttl('none'), 600, 'the mount\'s tuned default');
  } finally {
    await core.secrets.tune('kv/', { default_lease_ttl: 0 });
  }
});

test('LIST: folders end in "/", empty is 404, GET ?list=true works', async () => {
  await s.call('POST', 'kv1/tree/a', { v: 1 });
  await s.call('POST', 'kv1/tree/a/b', { v: 1 });
  await s.call('POST', 'kv1/tree/c/d', { v: 1 });
  let r = await s.call('LIST', 'kv1/tree');
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.data, { keys: ['a', 'a/', 'c/'] });
  assert.deepEqual((await s.call('GET', 'kv1/tree/c/?list=true')).body.data.keys, ['d']);
  assert.deepEqual((await s.call('LIST', 'kv1/')).body.data.keys, ['tree/']);
  r = await s.call('LIST', 'kv1/tree/none');
  assert.equal(r.status, 404);
  assert.deepEqual(r.body, { errors: [] });
});

test('bad writes are 400', async () => {
  let r = await s.call('POST', 'kv/empty', {});
  assert.equal(r.status, 400);
  assert.deepEqual(r.body.errors, ['missing data fields']);
  r = await s.call('POST', 'kv/folder/', { a: 1 });
  assert.equal(r.status, 400);
  r = await s.call('POST', 'kv/a//b', { a: 1 });
  assert.equal(r.status, 400);
  assert.equal((await s.call('GET', 'kv/folder/')).status, 404);
});

test('type aliases kv-v1 and kv-v2, and unknown versions', async () => {
  await core.secrets.mount({ path: 'alias2/', type: 'kv-v2' });
  assert.equal((await s.call('POST', 'alias2/data/x', { data: { a: 1 } })).body.data.version, 1);
  assert.deepEqual((await s.call('GET', 'alias2/data/x')).body.data.data, { a: 1 });
  await core.secrets.mount({ path: 'alias1/', type: 'kv-v1' });
  assert.equal((await s.call('POST', 'alias1/data/x', { a: 1 })).status, 204, 'on v1, data/x is just a path');
  assert.deepEqual((await s.call('GET', 'alias1/data/x')).body.data, { a: 1 });
  await assert.rejects(core.secrets.mount({ path: 'bad/', type: 'kv', options: { version: '3' } }), /kv version "3" is not supported/);
  assert.equal(core.secrets.get('bad/'), undefined);
});

test('version 1 and version 2 mounts keep their data apart', async () => {
  await core.secrets.mount({ path: 'v2/', type: 'kv', options: { version: '2' } });
  await s.call('POST', 'v2/data/same', { data: { from: 'v2' } });
  await s.call('POST', 'kv/same', { from: 'v1' });
  assert.deepEqual((await s.call('GET', 'v2/data/same')).body.data.data, { from: 'v2' });
  assert.deepEqual((await s.call('GET', 'kv/same')).body.data, { from: 'v1' });
  assert.equal((await s.call('GET', 'v2/same')).status, 404, 'v2 has no bare paths');
});

test('tuning a version 1 mount to version 2 upgrades its secrets to version 1 of each (vault kv enable-versioning)', async () => {
  await core.secrets.mount({ path: 'up/', type: 'kv', options: { version: '1' } });
  await s.call('POST', 'up/a', { v: 'a' });
  await s.call('POST', 'up/dir/b', { v: 'b', nested: { n: 1 } });
  await s.call('POST', 'up/dir/b/c', { v: 'c' });
  await core.secrets.tune('up/', { options: { version: '2' } });

  const r = await s.call('GET', 'up/data/dir/b');
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.data.data, { v: 'b', nested: { n: 1 } });
  assert.equal(r.body.data.metadata.version, 1);
  assert.deepEqual((await s.call('GET', 'up/data/a')).body.data.data, { v: 'a' });
  assert.deepEqual((await s.call('LIST', 'up/metadata/dir')).body.data.keys, ['b', 'b/']);
  assert.equal((await s.call('POST', 'up/data/a', { data: { v: 'a2' }, options: { cas: 1 } })).body.data.version, 2);
  const entry = core.secrets.get('up/');
  assert.deepEqual(await new PrefixView(core.barrier, `logical/${entry!.uuid}/`).list('data/'), [], 'no version 1 records are left');
});

test('through sys/mounts: the kv-v2 alias mounts kv version 2; tuning version 1 to 2 upgrades the data', async () => {
  assert.equal((await s.call('POST', 'sys/mounts/http-alias', { type: 'kv-v2' })).status, 204);
  const mounted = (await s.call('GET', 'sys/mounts')).body.data['http-alias/'];
  assert.equal(mounted.type, 'kv');
  assert.equal(mounted.options.version, '2');
  assert.equal((await s.call('POST', 'http-alias/data/x', { data: { a: 1 } })).body.data.version, 1);

  assert.equal((await s.call('POST', 'sys/mounts/http-up', { type: 'kv' })).status, 204);
  await s.call('POST', 'http-up/app', { password: 'p' });
  const tuned = await s.call('POST', 'sys/mounts/http-up/tune', { options: { version: '2' } });
  assert.ok(tuned.status === 200 || tuned.status === 204, `tune answered ${tuned.status}`);
  const r = await s.call('GET', 'http-up/data/app');
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.data.data, { password: 'p' });
});
