import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kvV2Path } from '../../src/sdk/index.js';
import { startDevServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { coffer, expectExit } from './cli-runner.js';
import type { CliEnv } from './cli-runner.js';

// `coffer kv patch|list|delete|undelete|destroy|rollback|metadata` and KV v1, against a real dev server.

const TS = '\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z';

async function setup(): Promise<{ s: TestServer; env: CliEnv }> {
  const s = await startDevServer();
  return { s, env: { addr: s.addr, token: s.rootToken } };
}

test('kv patch: HTTP PATCH merge, --remove-data, --method rw, fallback without the patch capability, v1 refused', async () => {
  const { s, env } = await setup();
  await s.call('POST', 'secret/data/p', { data: { a: '1', b: '2', c: '3' } });
  expectExit(await coffer(['kv', 'patch', 'secret/p', 'b=20', 'd=4'], env), 0, 'patch');
  assert.deepEqual((await s.call('GET', 'secret/data/p')).body.data.data, { a: '1', b: '20', c: '3', d: '4' });
  expectExit(await coffer(['kv', 'patch', '--remove-data', 'c', 'secret/p'], env), 0, 'remove-data');
  expectExit(await coffer(['kv', 'patch', '--method', 'rw', 'secret/p', 'a=10'], env), 0, 'rw');
  const after = (await s.call('GET', 'secret/data/p')).body.data;
  assert.deepEqual(after.data, { a: '10', b: '20', d: '4' });
  assert.equal(after.metadata.version, 4);
  const stale = await coffer(['kv', 'patch', '--cas', '1', 'secret/p', 'a=x'], env);
  assert.equal(stale.code, 2, 'patch honours --cas');

  // A token allowed to read and update but not to PATCH: Vault's CLI falls back to read+write, with a hint.
  await s.call('PUT', 'sys/policies/acl/no-patch', { policy: 'path "secret/data/*" { capabilities = ["create", "read", "update"] }' });
  const tok = (await s.call('POST', 'auth/token/create', { policies: ['no-patch'] })).body.auth.client_token as string;
  const fallback = expectExit(await coffer(['kv', 'patch', 'secret/p', 'e=5'], { ...env, token: tok }), 0, 'fallback');
  assert.match(fallback.stderr, /add the "patch" capability/);
  assert.equal((await s.call('GET', 'secret/data/p')).body.data.data.e, '5');
  const strict = await coffer(['kv', 'patch', '--method', 'patch', 'secret/p', 'e=6'], { ...env, token: tok });
  assert.equal(strict.code, 2, '--method patch does not fall back');

  await s.call('POST', 'sys/mounts/legacy', { type: 'kv' });
  const v1 = await coffer(['kv', 'patch', 'legacy/x', 'a=1'], env);
  assert.equal(v1.code, 2);
  assert.match(v1.stderr, /must be version 2 for patch support/);
  const missing = await coffer(['kv', 'patch', '--method', 'rw', 'secret/none', 'a=1'], env);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /No value found at secret\/data\/none/);
});

test('kv list, delete, undelete, destroy, rollback and metadata get/put/delete', async () => {
  const { s, env } = await setup();
  for (const p of ['app/a', 'app/b', 'app/sub/c']) await s.call('POST', `secret/data/${p}`, { data: { v: p } });
  assert.equal(expectExit(await coffer(['kv', 'list', 'secret/app'], env), 0, 'list').stdout, 'Keys\n----\na\nb\nsub/\n');
  assert.deepEqual(JSON.parse(expectExit(await coffer(['kv', 'list', '--format', 'json', '--mount', 'secret', 'app/'], env), 0, 'json').stdout), ['a', 'b', 'sub/']);
  const empty = await coffer(['kv', 'list', 'secret/nothing'], env);
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /No value found at secret\/metadata\/nothing/);

  await s.call('POST', 'secret/data/app/a', { data: { v: 'second' } });
  await s.call('POST', 'secret/data/app/a', { data: { v: 'third' } });
  assert.equal(expectExit(await coffer(['kv', 'delete', 'secret/app/a'], env), 0, 'delete').stdout, 'Success! Data deleted (if it existed) at: secret/data/app/a\n');
  const deleted = expectExit(await coffer(['kv', 'get', 'secret/app/a'], env), 0, 'get deleted');
  assert.match(deleted.stdout, new RegExp(`deletion_time\\s+${TS}`));
  assert.doesNotMatch(deleted.stdout, /Data/);
  assert.equal((await coffer(['kv', 'get', '--field', 'v', 'secret/app/a'], env)).code, 2);
  assert.equal(expectExit(await coffer(['kv', 'undelete', '--versions', '3', 'secret/app/a'], env), 0, 'undelete').stdout, 'Success! Data written to: secret/undelete/app/a\n');
  expectExit(await coffer(['kv', 'delete', '-versions=1,2', 'secret/app/a'], env), 0, 'delete versions');
  assert.equal(expectExit(await coffer(['kv', 'destroy', '--versions', '1', 'secret/app/a'], env), 0, 'destroy').stdout, 'Success! Data written to: secret/destroy/app/a\n');
  const noVersions = await coffer(['kv', 'destroy', 'secret/app/a'], env);
  assert.equal(noVersions.code, 1);
  assert.equal((await coffer(['kv', 'rollback', '--version', '1', 'secret/app/a'], env)).code, 2, 'cannot roll back to a destroyed version');
  expectExit(await coffer(['kv', 'undelete', '--versions', '2', 'secret/app/a'], env), 0, 'undelete 2');
  expectExit(await coffer(['kv', 'rollback', '--version', '2', 'secret/app/a'], env), 0, 'rollback');
  const rolled = (await s.call('GET', 'secret/data/app/a')).body.data;
  assert.deepEqual([rolled.data.v, rolled.metadata.version], ['second', 4]);

  expectExit(await coffer(['kv', 'metadata', 'put', '--max-versions', '5', '--custom-metadata', 'owner=ops', '-custom-metadata=team=web', 'secret/app/a'], env), 0, 'metadata put');
  const meta = expectExit(await coffer(['kv', 'metadata', 'get', 'secret/app/a'], env), 0, 'metadata get');
  assert.match(meta.stdout, /^=== Metadata Path ===\nsecret\/metadata\/app\/a\n\n========== Metadata ==========\nKey\s+Value\n---\s+-----\ncas_required\s+false\n/);
  assert.match(meta.stdout, /custom_metadata\s+map\[owner:ops team:web\]\n/);
  assert.match(meta.stdout, /max_versions\s+5\n/);
  assert.match(meta.stdout, /\n====== Version 1 ======\nKey\s+Value\n---\s+-----\ncreated_time\s+\S+\ndeletion_time\s+\S+\ndestroyed\s+true\n/);
  assert.match(meta.stdout, /====== Version 4 ======/);
  const metaJson = JSON.parse(expectExit(await coffer(['kv', 'metadata', 'get', '--format', 'json', 'secret/app/a'], env), 0, 'json').stdout) as { data: { current_version: number } };
  assert.equal(metaJson.data.current_version, 4);
  assert.equal(expectExit(await coffer(['kv', 'metadata', 'get', '--field', 'current_version', 'secret/app/a'], env), 0, 'field').stdout, '4');
  // `--cas-required` before the path (its optional value must not swallow the path), and `=false`.
  expectExit(await coffer(['kv', 'metadata', 'put', '--cas-required', 'secret/app/b'], env), 0, 'cas-required');
  assert.equal((await s.call('GET', 'secret/metadata/app/b')).body.data.cas_required, true);
  expectExit(await coffer(['kv', 'metadata', 'put', '-cas-required=false', 'secret/app/b'], env), 0, 'cas-required=false');
  assert.equal((await s.call('GET', 'secret/metadata/app/b')).body.data.cas_required, false);
  assert.equal((await coffer(['kv', 'metadata', 'put', '--cas-required', 'maybe', 'secret/app/b'], env)).code, 1);
  assert.equal(expectExit(await coffer(['kv', 'metadata', 'delete', 'secret/app/a'], env), 0, 'metadata delete').stdout, 'Success! Data deleted (if it existed) at: secret/metadata/app/a\n');
  assert.equal((await s.call('GET', 'secret/metadata/app/a')).status, 404);
  assert.equal((await coffer(['kv', 'metadata', 'get', 'secret/app/a'], env)).code, 2);
});

test('kv on a KV v1 mount: plain paths, no metadata; a denied preflight is exit 2; --wrap-ttl wraps', async () => {
  const { s, env } = await setup();
  await s.call('POST', 'sys/mounts/legacy', { type: 'kv' });
  assert.equal(expectExit(await coffer(['kv', 'put', 'legacy/svc', 'api_key=k1', 'ttl=1h'], env), 0, 'v1 put').stdout, 'Success! Data written to: legacy/svc\n');
  assert.deepEqual((await s.call('GET', 'legacy/svc')).body.data, { api_key: 'k1', ttl: '1h' });
  const get = expectExit(await coffer(['kv', 'get', '--mount', 'legacy', 'svc'], env), 0, 'v1 get');
  assert.equal(get.stdout.split('\n')[0], '===== Data =====');
  assert.match(get.stdout, /api_key\s+k1\nttl\s+1h\n$/);
  assert.doesNotMatch(get.stdout, /Secret Path|Metadata/);
  assert.equal(expectExit(await coffer(['kv', 'list', 'legacy/'], env), 0, 'v1 list').stdout, 'Keys\n----\nsvc\n');
  const meta = await coffer(['kv', 'metadata', 'get', 'legacy/svc'], env);
  assert.equal(meta.code, 1);
  assert.match(meta.stderr, /Metadata not supported on KV Version 1/);
  expectExit(await coffer(['kv', 'delete', 'legacy/svc'], env), 0, 'v1 delete');
  assert.equal((await s.call('GET', 'legacy/svc')).status, 404);

  const nobody = (await s.call('POST', 'auth/token/create', { policies: ['default'] })).body.auth.client_token as string;
  const denied = await coffer(['kv', 'get', 'secret/app'], { ...env, token: nobody });
  assert.equal(denied.code, 2);
  assert.match(denied.stderr, /preflight capability check returned 403/);

  // A value no random token or accessor can contain by chance (they are base62).
  await s.call('POST', 'secret/data/wrapped', { data: { pw: 'wrapped-secret-value' } });
  const wrapped = expectExit(await coffer(['kv', 'get', '--wrap-ttl', '5m', 'secret/wrapped'], env), 0, 'wrapped get');
  assert.match(wrapped.stdout, /^Key\s+Value\n---\s+-----\nwrapping_token:\s+\S+\nwrapping_accessor:\s+\S+\nwrapping_token_ttl:\s+5m\n/);
  assert.match(wrapped.stdout, /wrapping_token_creation_path:\s+secret\/data\/wrapped\n/);
  assert.doesNotMatch(wrapped.stdout, /wrapped-secret-value/);
  const token = expectExit(await coffer(['kv', 'get', '-wrap-ttl=5m', '-field=wrapping_token', 'secret/wrapped'], env), 0, 'wrapping token').stdout;
  const unwrapped = await s.call('POST', 'sys/wrapping/unwrap', { token });
  assert.equal(unwrapped.body.data.data.pw, 'wrapped-secret-value');
});

test('kvV2Path builds the v2 API paths as the Vault CLI does', () => {
  assert.equal(kvV2Path('secret/app/db', 'secret/', 'data'), 'secret/data/app/db');
  assert.equal(kvV2Path('secret', 'secret/', 'metadata'), 'secret/metadata');
  assert.equal(kvV2Path('secret/', 'secret/', 'metadata'), 'secret/metadata');
  assert.equal(kvV2Path('teams/a/x', 'teams/a/', 'destroy'), 'teams/a/destroy/x');
  // A mount reported with a prefix the path lacks (a namespace): leading mount segments are dropped.
  assert.equal(kvV2Path('secret/foo', 'ns1/secret/', 'data'), 'secret/data/foo');
});
