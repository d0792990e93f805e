import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PrefixView } from '../../src/storage/view.js';
import { startDevServer, type TestServer } from '../helpers/server.js';
import { tmpDir } from '../helpers/tmp.js';

const MERGE = { 'Content-Type': 'application/merge-patch+json' };
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

const s = await startDevServer();

/** Storage keys under a mount's view: the on-disk side effects the API cannot show. */
async function mountKeys(server: TestServer, mount: string, prefix: string): Promise<string[]> {
  const entry = server.server.core.secrets.get(mount);
  assert.ok(entry, `mount ${mount}`);
  return new PrefixView(server.server.core.barrier, `logical/${entry.uuid}/`).list(prefix);
}

const put = (path: string, data: unknown, options?: unknown) => s.call('POST', `secret/data/${path}`, options === undefined ? { data } : { data, options });

test('dev mode mounts secret/ as kv version 2', () => {
  const entry = s.server.core.secrets.get('secret/');
  assert.equal(entry?.type, 'kv');
  assert.deepEqual(entry?.options, { version: '2' });
});

test('write returns the version metadata; read returns data and metadata; ?version reads older ones', async () => {
  const w1 = await put('app/db', { user: 'alice', pass: 'one' });
  assert.equal(w1.status, 200);
  assert.deepEqual(Object.keys(w1.body.data), ['created_time', 'custom_metadata', 'deletion_time', 'destroyed', 'version']);
  assert.match(w1.body.data.created_time, ISO);
  assert.deepEqual({ ...w1.body.data, created_time: 'x' }, { created_time: 'x', custom_metadata: null, deletion_time: '', destroyed: false, version: 1 });
  assert.equal(w1.body.lease_duration, 0);
  assert.equal(w1.body.mount_type, 'kv');

  const w2 = await s.call('PUT', 'secret/data/app/db', { data: { user: 'alice', pass: 'two' } });
  assert.equal(w2.body.data.version, 2);

  const latest = await s.call('GET', 'secret/data/app/db');
  assert.equal(latest.status, 200);
  assert.deepEqual(latest.body.data, {
    data: { user: 'alice', pass: 'two' },
    metadata: { created_time: w2.body.data.created_time, custom_metadata: null, deletion_time: '', destroyed: false, version: 2 },
  });
  const v1 = await s.call('GET', 'secret/data/app/db?version=1');
  assert.deepEqual(v1.body.data.data, { user: 'alice', pass: 'one' });
  assert.equal(v1.body.data.metadata.version, 1);
  assert.equal((await s.call('GET', 'secret/data/app/db?version=0')).body.data.metadata.version, 2, 'version=0 means latest');
});

test('missing secrets and versions are 404 with errors: []', async () => {
  for (const path of ['secret/data/nope', 'secret/data/app/db?version=99', 'secret/metadata/nope', 'secret/subkeys/nope', 'secret/data/app/']) {
    const r = await s.call('GET', path);
    assert.equal(r.status, 404, path);
    assert.deepEqual(r.body, { errors: [] }, path);
  }
  assert.equal((await s.call('GET', 'secret/data/app/db?version=x')).status, 400);
});

test('bad writes are 400 with Vault\'s messages', async () => {
  let r = await s.call('POST', 'secret/data/bad', { options: {} });
  assert.equal(r.status, 400);
  assert.deepEqual(r.body.errors, ['no data provided']);
  r = await s.call('POST', 'secret/data/bad', { data: 'a string' });
  assert.equal(r.status, 400);
  r = await s.call('POST', 'secret/data/bad', { data: [1, 2] });
  assert.equal(r.status, 400);
  r = await s.call('POST', 'secret/data/folder/', { data: { a: 1 } });
  assert.equal(r.status, 400);
  r = await s.call('POST', 'secret/data', { data: { a: 1 } });
  assert.equal(r.status, 400);
  assert.deepEqual(r.body.errors, ['missing path']);
  r = await s.call('POST', 'secret/data/bad', { data: { a: 1 }, options: { cas: 'x' } });
  assert.deepEqual(r.body.errors, ['error parsing check-and-set parameter']);
  assert.equal((await s.call('GET', 'secret/data/bad')).status, 404, 'nothing was written');
});

test('check-and-set: 0 creates only; N must be the current version; cas_required from config or metadata', async () => {
  assert.equal((await put('cas/a', { v: 1 }, { cas: 0 })).status, 200);
  let r = await put('cas/a', { v: 2 }, { cas: 0 });
  assert.equal(r.status, 400);
  assert.deepEqual(r.body, { errors: ['check-and-set parameter did not match the current version'] });
  r = await put('cas/a', { v: 2 }, { cas: 2 });
  assert.deepEqual(r.body.errors, ['check-and-set parameter did not match the current version']);
  assert.equal((await put('cas/a', { v: 2 }, { cas: '1' })).body.data.version, 2, 'cas as a numeric string');

  assert.equal((await s.call('POST', 'secret/metadata/cas/a', { cas_required: true })).status, 204);
  r = await put('cas/a', { v: 3 });
  assert.equal(r.status, 400);
  assert.deepEqual(r.body.errors, ['check-and-set parameter required for this call']);
  assert.equal((await put('cas/a', { v: 3 }, { cas: 2 })).status, 200);
  assert.equal((await put('cas/other', { v: 1 })).status, 200, 'other secrets are not affected');

  assert.equal((await s.call('POST', 'secret/config', { cas_required: true })).status, 204);
  try {
    r = await put('cas/other', { v: 2 });
    assert.deepEqual(r.body.errors, ['check-and-set parameter required for this call']);
    r = await s.call('POST', 'secret/metadata/cas/other', { cas_required: false });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.warnings, ['"cas_required" set to false, but is mandated by backend config. This value will be ignored.']);
    assert.equal((await put('cas/other', { v: 2 })).status, 400);
  } finally {
    await s.call('POST', 'secret/config', { cas_required: false });
  }
});

test('concurrent writes with the same cas: exactly one wins', async () => {
  await put('race', { n: 0 });
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => put('race', { n: i + 1 }, { cas: 1 })));
  assert.equal(results.filter((r) => r.status === 200).length, 1);
  assert.equal(results.filter((r) => r.status === 400).length, 19);
  assert.equal((await s.call('GET', 'secret/metadata/race')).body.data.current_version, 2);
});

test('soft delete, undelete and destroy', async () => {
  for (let i = 1; i <= 3; i++) await put('life', { i });
  assert.equal((await s.call('DELETE', 'secret/data/life')).status, 204);
  let r = await s.call('GET', 'secret/data/life');
  assert.equal(r.status, 404);
  assert.equal(r.body.data.data, null);
  assert.match(r.body.data.metadata.deletion_time, ISO);
  assert.deepEqual({ ...r.body.data.metadata, created_time: 0, deletion_time: 0 }, { created_time: 0, custom_metadata: null, deletion_time: 0, destroyed: false, version: 3 });
  assert.equal((await s.call('DELETE', 'secret/data/life')).status, 204, 'deleting again is a no-op');

  assert.equal((await s.call('POST', 'secret/delete/life', { versions: [1] })).status, 204);
  assert.equal((await s.call('GET', 'secret/data/life?version=1')).status, 404);
  assert.equal((await s.call('GET', 'secret/data/life?version=2')).status, 200);

  assert.equal((await s.call('POST', 'secret/undelete/life', { versions: '1,3' })).status, 204);
  r = await s.call('GET', 'secret/data/life');
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.data.data, { i: 3 });
  assert.equal(r.body.data.metadata.deletion_time, '');
  assert.equal((await s.call('GET', 'secret/data/life?version=1')).body.data.data.i, 1);

  assert.equal((await s.call('PUT', 'secret/destroy/life', { versions: [2, 3, 42] })).status, 204);
  r = await s.call('GET', 'secret/data/life?version=2');
  assert.equal(r.status, 404);
  assert.equal(r.body.data.metadata.destroyed, true);
  assert.equal((await s.call('POST', 'secret/undelete/life', { versions: [2] })).status, 204);
  assert.equal((await s.call('GET', 'secret/data/life?version=2')).status, 404, 'a destroyed version cannot be undeleted');
  const meta = (await s.call('GET', 'secret/metadata/life')).body.data;
  assert.deepEqual(Object.fromEntries(Object.entries(meta.versions).map(([n, v]) => [n, (v as { destroyed: boolean }).destroyed])), { 1: false, 2: true, 3: true });
  assert.deepEqual(await mountKeys(s, 'secret/', 'ver/life/'), ['1'], 'destroyed versions leave storage');

  for (const [op, msg] of [['delete', 'No version number provided'], ['undelete', 'No version number provided'], ['destroy', 'no version number provided']]) {
    r = await s.call('POST', `secret/${op}/life`, { versions: [] });
    assert.equal(r.status, 400, op);
    assert.deepEqual(r.body.errors, [msg]);
  }
  assert.equal((await s.call('POST', 'secret/delete/life', { versions: ['x'] })).status, 400);
  assert.equal((await s.call('POST', 'secret/destroy/never-written', { versions: [1] })).status, 204);
});

test('metadata: read, write settings and custom_metadata, limits, patch, delete all', async () => {
  await put('meta/s', { k: 'v' });
  let r = await s.call('POST', 'secret/metadata/meta/s', { max_versions: 5, delete_version_after: '1h', custom_metadata: { owner: 'jdoe', n: 3, ok: true } });
  assert.equal(r.status, 204);
  r = await s.call('GET', 'secret/metadata/meta/s');
  assert.equal(r.status, 200);
  const d = r.body.data;
  assert.deepEqual(Object.keys(d), ['cas_required', 'created_time', 'current_version', 'custom_metadata', 'delete_version_after', 'max_versions', 'oldest_version', 'updated_time', 'versions']);
  assert.deepEqual({ ...d, created_time: 0, updated_time: 0, versions: 0 }, {
    cas_required: false, created_time: 0, current_version: 1, custom_metadata: { owner: 'jdoe', n: '3', ok: '1' },
    delete_version_after: '1h0m0s', max_versions: 5, oldest_version: 0, updated_time: 0, versions: 0,
  });
  assert.deepEqual(Object.keys(d.versions), ['1']);
  assert.deepEqual(Object.keys(d.versions['1']), ['created_time', 'deletion_time', 'destroyed']);
  assert.deepEqual((await s.call('GET', 'secret/data/meta/s')).body.data.metadata.custom_metadata, { owner: 'jdoe', n: '3', ok: '1' }, 'reads carry custom_metadata');

  r = await s.call('PATCH', 'secret/metadata/meta/s', { custom_metadata: { owner: null, team: 'core' }, max_versions: 7 }, MERGE);
  assert.equal(r.status, 204);
  r = await s.call('GET', 'secret/metadata/meta/s');
  assert.deepEqual(r.body.data.custom_metadata, { n: '3', ok: '1', team: 'core' });
  assert.equal(r.body.data.max_versions, 7);
  assert.equal(r.body.data.delete_version_after, '1h0m0s', 'patch leaves other settings');
  assert.equal((await s.call('PATCH', 'secret/metadata/meta/none', { max_versions: 1 }, MERGE)).status, 404);

  const tooMany = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']));
  r = await s.call('POST', 'secret/metadata/meta/s', { custom_metadata: tooMany });
  assert.equal(r.status, 400);
  assert.deepEqual(r.body.errors, ['custom_metadata validation failed: payload must contain at most 64 keys, provided 65']);
  r = await s.call('POST', 'secret/metadata/meta/s', { custom_metadata: { ['k'.repeat(129)]: 'v' } });
  assert.match(r.body.errors[0], /^custom_metadata validation failed: length of key "k+" is 129 but must be 0 < len\(key\) <= 128$/);
  r = await s.call('POST', 'secret/metadata/meta/s', { custom_metadata: { k: 'v'.repeat(513) } });
  assert.equal(r.status, 400);
  r = await s.call('POST', 'secret/metadata/meta/s', { custom_metadata: { k: 'line\nbreak' } });
  assert.deepEqual(r.body.errors, ['custom_metadata validation failed: value for key "k" contains unprintable characters']);
  assert.equal((await s.call('POST', 'secret/metadata/meta/s', { max_versions: -1 })).status, 400);
  assert.equal((await s.call('POST', 'secret/metadata/meta/s', { delete_version_after: '-1h' })).status, 400);
  assert.equal((await s.call('GET', 'secret/metadata/meta/s')).body.data.max_versions, 7, 'rejected writes change nothing');

  r = await s.call('POST', 'secret/metadata/meta/only-meta', { custom_metadata: { a: 'b' } });
  assert.equal(r.status, 204);
  r = await s.call('GET', 'secret/metadata/meta/only-meta');
  assert.equal(r.body.data.current_version, 0);
  assert.deepEqual(r.body.data.versions, {});
  assert.equal((await s.call('GET', 'secret/data/meta/only-meta')).status, 404);
  assert.equal((await put('meta/only-meta', { x: 1 }, { cas: 0 })).status, 200, 'cas 0 works on metadata without versions');

  await put('meta/s', { k: 'v2' });
  assert.equal((await s.call('DELETE', 'secret/metadata/meta/s')).status, 204);
  assert.equal((await s.call('GET', 'secret/metadata/meta/s')).status, 404);
  assert.equal((await s.call('GET', 'secret/data/meta/s?version=1')).status, 404);
  assert.deepEqual(await mountKeys(s, 'secret/', 'ver/meta/'), ['only-meta/'], 'every version record is gone');
  assert.deepEqual((await s.call('LIST', 'secret/metadata/meta')).body.data.keys, ['only-meta']);
});

test('LIST: folders end in "/", empty is 404, destroyed secrets still list, GET ?list=true works', async () => {
  await put('tree/a', { v: 1 });
  await put('tree/a/b', { v: 1 });
  await put('tree/c/d/e', { v: 1 });
  await put('tree/z', { v: 1 });
  await s.call('PUT', 'secret/destroy/tree/z', { versions: [1] });
  let r = await s.call('LIST', 'secret/metadata/tree/');
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.data, { keys: ['a', 'a/', 'c/', 'z'] });
  assert.deepEqual((await s.call('LIST', 'secret/metadata/tree')).body.data.keys, ['a', 'a/', 'c/', 'z'], 'no trailing slash');
  assert.deepEqual((await s.call('GET', 'secret/metadata/tree/c?list=true')).body.data.keys, ['d/']);
  r = await s.call('LIST', 'secret/metadata/tree/nothing/');
  assert.equal(r.status, 404);
  assert.deepEqual(r.body, { errors: [] });
  assert.ok((await s.call('LIST', 'secret/metadata/')).body.data.keys.includes('tree/'));
});

test('max_versions trims the oldest versions on write, in storage too', async () => {
  await s.call('POST', 'secret/config', { max_versions: 3 });
  try {
    for (let i = 1; i <= 5; i++) await put('trim', { i });
    let meta = (await s.call('GET', 'secret/metadata/trim')).body.data;
    assert.equal(meta.current_version, 5);
    assert.equal(meta.oldest_version, 3);
    assert.deepEqual(Object.keys(meta.versions), ['3', '4', '5']);
    assert.equal((await s.call('GET', 'secret/data/trim?version=2')).status, 404);
    assert.deepEqual((await mountKeys(s, 'secret/', 'ver/trim/')).sort(), ['3', '4', '5']);

    // The key's own larger setting wins over the config (Vault uses the larger of the two).
    await s.call('POST', 'secret/metadata/trim', { max_versions: 4 });
    await put('trim', { i: 6 });
    meta = (await s.call('GET', 'secret/metadata/trim')).body.data;
    assert.deepEqual(Object.keys(meta.versions), ['3', '4', '5', '6']);
  } finally {
    await s.call('POST', 'secret/config', { max_versions: 0 });
  }
  for (let i = 1; i <= 12; i++) await put('trim-default', { i });
  const meta = (await s.call('GET', 'secret/metadata/trim-default')).body.data;
  assert.equal(Object.keys(meta.versions).length, 10, 'the default keeps 10');
  assert.equal(meta.oldest_version, 3);
});

test('config: read and write', async () => {
  assert.deepEqual((await s.call('GET', 'secret/config')).body.data, { cas_required: false, delete_version_after: '0s', max_versions: 0 });
  assert.equal((await s.call('POST', 'secret/config', { max_versions: 5, delete_version_after: '3h25m19s' })).status, 204);
  assert.deepEqual((await s.call('GET', 'secret/config')).body.data, { cas_required: false, delete_version_after: '3h25m19s', max_versions: 5 });
  assert.equal((await s.call('POST', 'secret/config', { max_versions: -2 })).status, 400);
  assert.equal((await s.call('POST', 'secret/config', { cas_required: 'maybe' })).status, 400);
  await s.call('POST', 'secret/config', { max_versions: 0, delete_version_after: 0 });
  assert.deepEqual((await s.call('GET', 'secret/config')).body.data, { cas_required: false, delete_version_after: '0s', max_versions: 0 });
});

test('delete_version_after: deletion_time is set at write, the smaller setting wins, and the version reads as deleted after it', async () => {
  await s.call('POST', 'secret/config', { delete_version_after: '1h' });
  try {
    await s.call('POST', 'secret/metadata/dva/short', { delete_version_after: '30m' });
    const w = await put('dva/short', { v: 1 });
    const span = Date.parse(w.body.data.deletion_time) - Date.parse(w.body.data.created_time);
    assert.equal(span, 30 * 60 * 1000);
    const r = await s.call('GET', 'secret/data/dva/short');
    assert.equal(r.status, 200, 'readable until the deletion time');
    assert.equal(r.body.data.metadata.deletion_time, w.body.data.deletion_time);
    const w2 = await put('dva/config-only', { v: 1 });
    assert.equal(Date.parse(w2.body.data.deletion_time) - Date.parse(w2.body.data.created_time), 3600 * 1000);
  } finally {
    await s.call('POST', 'secret/config', { delete_version_after: 0 });
  }
  await s.call('POST', 'secret/metadata/dva/expiring', { delete_version_after: '1s' });
  const w = await put('dva/expiring', { v: 1 });
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(w.body.data.deletion_time) - Date.now()) + 50));
  const r = await s.call('GET', 'secret/data/dva/expiring');
  assert.equal(r.status, 404);
  assert.equal(r.body.data.data, null);
  assert.equal(r.body.data.metadata.deletion_time, w.body.data.deletion_time);
  assert.equal((await s.call('POST', 'secret/undelete/dva/expiring', { versions: [1] })).status, 204);
  assert.notEqual((await s.call('GET', 'secret/metadata/dva/expiring')).body.data.versions['1'].deletion_time, '', 'undelete schedules a new deletion');
});

test('PATCH: JSON merge patch on the latest version, cas respected, merge-patch content type required', async () => {
  await put('patch/p', { keep: 'k', drop: 'd', nested: { a: 1, b: 2 }, list: [1, 2] });
  let r = await s.call('PATCH', 'secret/data/patch/p', { data: { drop: null, nested: { b: null, c: 3 }, list: [3], added: { x: { y: 1 } } } }, MERGE);
  assert.equal(r.status, 200);
  assert.equal(r.body.data.version, 2);
  assert.deepEqual((await s.call('GET', 'secret/data/patch/p')).body.data.data, { keep: 'k', nested: { a: 1, c: 3 }, list: [3], added: { x: { y: 1 } } });

  r = await s.call('PATCH', 'secret/data/patch/p', { data: { keep: 'no' }, options: { cas: 1 } }, MERGE);
  assert.equal(r.status, 400);
  assert.deepEqual(r.body.errors, ['check-and-set parameter did not match the current version']);
  assert.equal((await s.call('PATCH', 'secret/data/patch/p', { data: { keep: 'yes' }, options: { cas: 2 } }, MERGE)).status, 200);

  r = await s.call('PATCH', 'secret/data/patch/p', { data: { keep: 'x' } });
  assert.equal(r.status, 415, 'PATCH without the merge-patch content type');
  r = await s.call('PATCH', 'secret/data/patch/missing', { data: { a: 1 } }, MERGE);
  assert.equal(r.status, 404);
  assert.deepEqual((await s.call('PATCH', 'secret/data/patch/p', {}, MERGE)).body.errors, ['no data provided']);

  await s.call('DELETE', 'secret/data/patch/p');
  r = await s.call('PATCH', 'secret/data/patch/p', { data: { a: 1 } }, MERGE);
  assert.equal(r.status, 404);
  assert.equal(r.body.data.version, 3, 'the 404 carries the version metadata');
  assert.match(r.body.data.deletion_time, ISO);
});

test('subkeys: values replaced by null, depth limits nesting, deleted versions are 404 with metadata', async () => {
  await put('sub', { foo: 'abc', bar: { baz: 'def', deep: { er: 1 } }, quux: {} });
  let r = await s.call('GET', 'secret/subkeys/sub');
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.data.subkeys, { foo: null, bar: { baz: null, deep: { er: null } }, quux: null });
  assert.equal(r.body.data.metadata.version, 1);
  r = await s.call('GET', 'secret/subkeys/sub?depth=1');
  assert.deepEqual(r.body.data.subkeys, { foo: null, bar: null, quux: null });
  r = await s.call('GET', 'secret/subkeys/sub?depth=2');
  assert.deepEqual(r.body.data.subkeys, { foo: null, bar: { baz: null, deep: null }, quux: null });
  await put('sub', { only: 'one' });
  assert.deepEqual((await s.call('GET', 'secret/subkeys/sub?version=2')).body.data.subkeys, { only: null });
  await s.call('POST', 'secret/delete/sub', { versions: [1] });
  r = await s.call('GET', 'secret/subkeys/sub?version=1');
  assert.equal(r.status, 404);
  assert.equal(r.body.data.subkeys, null);
  assert.equal(r.body.data.metadata.version, 1);
});

test('secret names that could escape their prefix never reach storage', async () => {
  // fetch resolves '..' and '%2e%2e' itself, so only the forms it sends as-is are tried here.
  for (const path of ['secret/data/a//b', 'secret/data/a%2Fb', 'secret/data/a%5Cb', 'secret/data/a%00b', 'secret/metadata/a//b', 'secret/data/a/%2E']) {
    const r = await s.call('POST', path, { data: { v: 1 } });
    assert.equal(r.status, 400, path);
  }
  assert.deepEqual(await mountKeys(s, 'secret/', 'meta/a/'), []);
});

test('create vs update: a create-only policy writes new secrets but cannot overwrite them', async (t) => {
  const policy = await s.call('PUT', 'sys/policies/acl/kv-create-only', { policy: 'path "secret/data/co/*" { capabilities = ["create"] }' });
  if (policy.status !== 204 && policy.status !== 200) {
    t.skip(`policies are not wired yet (sys/policies/acl answered ${policy.status})`);
    return;
  }
  const { token } = await s.server.core.tokens.create({ parentId: null, policies: ['kv-create-only'], displayName: 'co', ttl: 600, path: 'auth/token/create' });
  const as = { 'X-Vault-Token': token };
  assert.equal((await s.call('POST', 'secret/data/co/new', { data: { a: 1 } }, as)).status, 200);
  assert.equal((await s.call('POST', 'secret/data/co/new', { data: { a: 2 } }, as)).status, 403);
  assert.equal((await s.call('PATCH', 'secret/data/co/new', { data: { a: 2 } }, { ...as, ...MERGE })).status, 403, 'patch needs the patch capability');
});

test('T2: canaries written through kv v1, kv v2 and cubbyhole never appear in the SQLite file or its WAL', async () => {
  const dir = tmpDir('kv-t2');
  const server = await startDevServer({ dataDir: dir });
  await server.server.core.secrets.mount({ path: 'kv1/', type: 'kv', options: { version: '1' } });
  const canaries = Array.from({ length: 6 }, (_, i) => `CANARY-${i}-${crypto.randomUUID()}`);
  const [v1, v2, v2patch, cub, custom, v2old] = canaries as [string, string, string, string, string, string];
  const ok = (r: { status: number }) => assert.ok(r.status === 200 || r.status === 204, `status ${r.status}`);
  ok(await server.call('POST', 'kv1/app', { password: v1 }));
  ok(await server.call('POST', 'secret/data/app', { data: { password: v2old } }));
  ok(await server.call('POST', 'secret/data/app', { data: { password: v2, nested: { deep: v2 } } }));
  ok(await server.call('PATCH', 'secret/data/app', { data: { patched: v2patch } }, MERGE));
  ok(await server.call('POST', 'secret/metadata/app', { custom_metadata: { note: custom } }));
  ok(await server.call('POST', 'cubbyhole/app', { password: cub }));
  assert.equal((await server.call('GET', 'cubbyhole/app')).body.data.password, cub, 'the canaries really were stored');
  // Record keys (not secret) name the mount uuids: finding them proves the scan sees where the records went.
  const prefixes = ['secret/', 'kv1/', 'cubbyhole/'].map((m) => Buffer.from(`logical/${server.server.core.secrets.get(m)!.uuid}/`));
  await server.server.close();

  const files = ['coffer.db', 'coffer.db-wal'].map((f) => join(dir, f)).filter((f) => existsSync(f));
  assert.ok(files.length > 0);
  const all = Buffer.concat(files.map((f) => readFileSync(f)));
  for (const prefix of prefixes) assert.notEqual(all.indexOf(prefix), -1, `records of ${prefix.toString()} are in the scanned files`);
  for (const file of files) {
    const bytes = readFileSync(file);
    assert.ok(bytes.length > 0);
    for (const canary of canaries) {
      for (const needle of encodings(canary)) assert.equal(bytes.indexOf(needle), -1, `${file} holds a form of a canary`);
    }
  }
});

/** The canary raw, in hex (both cases) and in base64 at each of the three alignments it can start at. */
function encodings(canary: string): Buffer[] {
  const raw = Buffer.from(canary);
  const out = [raw, Buffer.from(raw.toString('hex')), Buffer.from(raw.toString('hex').toUpperCase()), Buffer.from(JSON.stringify(canary))];
  for (let pad = 0; pad < 3; pad++) {
    const b64 = Buffer.concat([Buffer.alloc(pad), raw]).toString('base64');
    // Drop the characters that depend on the padding bytes before and after the canary.
    const inner = b64.slice(Math.ceil((pad * 4) / 3) + 1, -4);
    out.push(Buffer.from(inner), Buffer.from(inner.replace(/\+/g, '-').replace(/\//g, '_')));
  }
  return out;
}
