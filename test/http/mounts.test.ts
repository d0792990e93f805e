import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startDevServer, type TestServer } from '../helpers/server.js';
import { tmpDir } from '../helpers/tmp.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MOUNT_KEYS = ['accessor', 'config', 'deprecation_status', 'description', 'external_entropy_access', 'local', 'options', 'plugin_version',
  'running_plugin_version', 'running_sha256', 'seal_wrap', 'type', 'uuid'];

/** A token whose only policies are `default` and one made from `hcl`. */
async function tokenWith(s: TestServer, name: string, hcl: string): Promise<string> {
  const p = await s.call('PUT', `sys/policy/${name}`, { policy: hcl });
  assert.equal(p.status, 204, JSON.stringify(p.body));
  const t = await s.call('POST', 'auth/token/create', { policies: [name] });
  assert.equal(t.status, 200, JSON.stringify(t.body));
  return t.body.auth.client_token;
}

const s = await startDevServer();

test('sys/mounts lists every mount with Vault\'s fields, also copied to the top level', async () => {
  const res = await s.call('GET', 'sys/mounts');
  assert.equal(res.status, 200);
  for (const path of ['sys/', 'secret/', 'cubbyhole/']) {
    const m = res.body.data[path];
    assert.ok(m, `missing ${path}`);
    assert.deepEqual(Object.keys(m).sort(), MOUNT_KEYS);
    assert.match(m.uuid, UUID);
    assert.deepEqual(res.body[path], m, 'top-level copy');
  }
  assert.equal(res.body.data['sys/'].type, 'system');
  assert.deepEqual(res.body.data['secret/'].options, { version: '2' });
  assert.deepEqual(res.body.data['secret/'].config, { default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false });
});

test('enable kv v1 with string and number fields, read it back, tune it, disable it', async () => {
  const en = await s.call('POST', 'sys/mounts/app1', {
    type: 'kv', description: 'team one', options: { version: 1 },
    config: { default_lease_ttl: '1h', max_lease_ttl: 7200, force_no_cache: 'true', audit_non_hmac_request_keys: 'a,b' },
  });
  assert.equal(en.status, 204, JSON.stringify(en.body));

  const one = await s.call('GET', 'sys/mounts/app1');
  assert.equal(one.status, 200);
  const { accessor, uuid, ...rest } = one.body.data;
  assert.match(accessor, /^kv_[0-9a-z]+$/);
  assert.match(uuid, UUID);
  assert.deepEqual(rest, {
    type: 'kv', description: 'team one', options: { version: '1' }, local: false, seal_wrap: false, external_entropy_access: false,
    config: { default_lease_ttl: 3600, max_lease_ttl: 7200, force_no_cache: true, audit_non_hmac_request_keys: ['a', 'b'] },
    plugin_version: '', running_plugin_version: one.body.data.running_plugin_version, running_sha256: '', deprecation_status: 'supported',
  });
  assert.equal(one.body.type, 'kv', 'top-level copy');

  const tune = await s.call('GET', 'sys/mounts/app1/tune');
  assert.equal(tune.status, 200);
  assert.deepEqual(tune.body.data, {
    description: 'team one', default_lease_ttl: 3600, max_lease_ttl: 7200, force_no_cache: true, audit_non_hmac_request_keys: ['a', 'b'], options: { version: '1' },
  });

  assert.equal((await s.call('POST', 'sys/mounts/app1/tune', { default_lease_ttl: 'system', max_lease_ttl: '3h', description: 'renamed', options: { extra: 'x' } })).status, 204);
  const tuned = await s.call('GET', 'sys/mounts/app1/tune');
  assert.deepEqual(tuned.body.data, {
    description: 'renamed', default_lease_ttl: 10_800, max_lease_ttl: 10_800, force_no_cache: true,
    audit_non_hmac_request_keys: ['a', 'b'], options: { version: '1', extra: 'x' },
  });
  // Stored values stay what was set: 0 means "the system's".
  assert.deepEqual((await s.call('GET', 'sys/mounts/app1')).body.data.config.default_lease_ttl, 0);
  // An empty option value removes the option; an empty TTL keeps the current one.
  assert.equal((await s.call('POST', 'sys/mounts/app1/tune', { options: { extra: '' }, max_lease_ttl: '' })).status, 204);
  assert.deepEqual((await s.call('GET', 'sys/mounts/app1/tune')).body.data.options, { version: '1' });
  assert.equal((await s.call('GET', 'sys/mounts/app1/tune')).body.data.max_lease_ttl, 10_800);

  assert.equal((await s.call('DELETE', 'sys/mounts/app1')).status, 204);
  assert.equal((await s.call('GET', 'sys/mounts')).body.data['app1/'], undefined);
  assert.equal((await s.call('GET', 'sys/mounts/app1')).status, 400);
});

test('tune refuses bad TTLs, KV downgrades and system mounts; an upgrade warns', async () => {
  assert.equal((await s.call('POST', 'sys/mounts/tunes', { type: 'kv', options: { version: '1' } })).status, 204);
  const cases: [unknown, RegExp][] = [
    [{ default_lease_ttl: '2h', max_lease_ttl: '1h' }, /default_lease_ttl cannot be greater than max_lease_ttl/],
    [{ max_lease_ttl: '800h' }, /system max lease TTL/],
    [{ default_lease_ttl: 'soon' }, /default_lease_ttl: must be a duration/],
    [{ options: { version: '3' } }, /invalid version provided: 3/],
  ];
  for (const [body, message] of cases) {
    const r = await s.call('POST', 'sys/mounts/tunes/tune', body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.match(r.body.errors[0], message);
  }
  const up = await s.call('POST', 'sys/mounts/tunes/tune', { options: { version: '2' } });
  assert.equal(up.status, 200);
  assert.match(up.body.warnings[0], /Upgrading mount from version 1 to version 2/);
  assert.deepEqual((await s.call('GET', 'sys/mounts/tunes')).body.data.options, { version: '2' });
  const down = await s.call('POST', 'sys/mounts/tunes/tune', { options: { version: '1' } });
  assert.equal(down.status, 400);
  assert.equal(down.body.errors[0], 'cannot downgrade mount from version 2');
  for (const path of ['sys', 'cubbyhole']) {
    const r = await s.call('POST', `sys/mounts/${path}/tune`, { description: 'x' });
    assert.equal(r.status, 400);
    assert.equal(r.body.errors[0], `cannot tune "${path}/"`);
  }
  assert.equal((await s.call('GET', 'sys/mounts/nowhere/tune')).status, 400);
});

test('disabling a mount deletes its data: nothing is left under its storage prefix', async () => {
  assert.equal((await s.call('POST', 'sys/mounts/a', { type: 'kv', options: { version: '1' } })).status, 204);
  const { uuid } = (await s.call('GET', 'sys/mounts/a')).body.data;
  for (let i = 0; i < 5; i++) assert.equal((await s.call('POST', `a/dir/k${i}`, { v: i })).status, 204);
  assert.equal((await s.call('GET', 'a/dir/k1')).body.data.v, 1);
  const barrier = s.server.core.barrier;
  assert.ok((await barrier.list(`logical/${uuid}/`)).length > 0);

  assert.equal((await s.call('DELETE', 'sys/mounts/a')).status, 204);
  assert.deepEqual(await barrier.list(`logical/${uuid}/`), []);
  assert.equal((await s.call('GET', 'a/dir/k1')).status, 404);
  assert.equal((await s.call('POST', 'sys/mounts/a', { type: 'kv', options: { version: '1' } })).status, 204);
  assert.equal((await s.call('GET', 'a/dir/k1')).status, 404);
  // Disabling what is not mounted is not an error (Vault does not say whether it existed).
  assert.equal((await s.call('DELETE', 'sys/mounts/never-was')).status, 204);
});

test('enable refuses overlaps, reserved paths, unknown types and misplaced versions', async () => {
  assert.equal((await s.call('POST', 'sys/mounts/outer/inner', { type: 'kv' })).status, 204);
  const cases: [string, unknown, RegExp][] = [
    ['sys/mounts/secret', { type: 'kv' }, /path is already in use at secret\//],
    ['sys/mounts/secret/under', { type: 'kv' }, /path is already in use at secret\//],
    ['sys/mounts/outer', { type: 'kv' }, /path is already in use at outer\/inner\//],
    ['sys/mounts/sys/mine', { type: 'kv' }, /reserved/],
    ['sys/mounts/auth/mine', { type: 'kv' }, /reserved/],
    ['sys/mounts/cubbyhole2', { type: 'no-such-engine' }, /plugin not found in the catalog: no-such-engine/],
    ['sys/mounts/typeless', {}, /backend type must be specified/],
    ['sys/mounts/cub', { type: 'cubbyhole', options: { version: '2' } }, /does not allow setting a version/],
    ['sys/mounts/ttls', { type: 'kv', config: { default_lease_ttl: '2h', max_lease_ttl: '1h' } }, /default_lease_ttl cannot be greater/],
  ];
  for (const [path, body, message] of cases) {
    const r = await s.call('POST', path, body);
    assert.equal(r.status, 400, path);
    assert.match(r.body.errors[0], message, path);
  }
  const listed = (await s.call('GET', 'sys/mounts')).body.data;
  for (const p of ['secret/under/', 'outer/', 'sys/mine/', 'typeless/', 'cub/', 'ttls/']) assert.equal(listed[p], undefined, p);
});

test('the bodies the Vault Go client sends (nulls, "0s", empty strings) are understood', async () => {
  const enable = await s.call('POST', 'sys/mounts/gocli', {
    type: 'kv', description: '', local: false, seal_wrap: false, external_entropy_access: false, options: { version: '2' },
    config: {
      options: null, default_lease_ttl: '0s', max_lease_ttl: '0s', force_no_cache: false, audit_non_hmac_request_keys: null,
      audit_non_hmac_response_keys: null, listing_visibility: '', passthrough_request_headers: null, allowed_response_headers: null, plugin_version: '',
    },
  });
  assert.equal(enable.status, 204, JSON.stringify(enable.body));
  assert.deepEqual((await s.call('GET', 'sys/mounts/gocli')).body.data.config, { default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false });
  const tune = await s.call('POST', 'sys/mounts/gocli/tune', { options: null, default_lease_ttl: '', description: null, max_lease_ttl: '1h', force_no_cache: false });
  assert.equal(tune.status, 204, JSON.stringify(tune.body));
  const after = (await s.call('GET', 'sys/mounts/gocli/tune')).body.data;
  assert.equal(after.max_lease_ttl, 3600);
  assert.equal(after.default_lease_ttl, 3600, 'the system default, capped by the new max');
  assert.deepEqual(after.options, { version: '2' });
});

test('kv-v2 and kv-v1 are aliases of kv with a version option', async () => {
  assert.equal((await s.call('POST', 'sys/mounts/v2alias', { type: 'kv-v2' })).status, 204);
  assert.equal((await s.call('POST', 'sys/mounts/v1alias', { type: 'kv-v1' })).status, 204);
  const listed = (await s.call('GET', 'sys/mounts')).body.data;
  assert.equal(listed['v2alias/'].type, 'kv');
  assert.deepEqual(listed['v2alias/'].options, { version: '2' });
  assert.deepEqual(listed['v1alias/'].options, { version: '1' });
  assert.equal((await s.call('POST', 'v2alias/data/x', { data: { a: 1 } })).status, 200);
});

test('builtin mounts cannot be disabled or moved', async () => {
  for (const path of ['sys', 'cubbyhole']) {
    const r = await s.call('DELETE', `sys/mounts/${path}`);
    assert.equal(r.status, 400, path);
    assert.equal(r.body.errors[0], `cannot unmount "${path}/"`);
    const m = await s.call('POST', 'sys/remount', { from: path, to: `moved-${path}` });
    assert.equal(m.status, 400, path);
    assert.equal(m.body.errors[0], `cannot remount "${path}/"`);
  }
  assert.equal((await s.call('DELETE', 'sys/auth/token')).status, 400);
  assert.equal((await s.call('POST', 'sys/remount', { from: 'auth/token', to: 'auth/tok2' })).status, 400);
  assert.ok((await s.call('GET', 'sys/mounts')).body.data['sys/']);
  assert.equal((await s.call('GET', 'auth/token/lookup-self')).status, 200);
});

test('remount moves a mount with its data and reports a migration', async () => {
  assert.equal((await s.call('POST', 'sys/mounts/from-here', { type: 'kv', options: { version: '1' } })).status, 204);
  const before = (await s.call('GET', 'sys/mounts/from-here')).body.data;
  assert.equal((await s.call('POST', 'from-here/k', { v: 'moved' })).status, 204);

  const r = await s.call('POST', 'sys/remount', { from: 'from-here', to: 'to/there' });
  assert.equal(r.status, 200);
  assert.match(r.body.data.migration_id, UUID);
  assert.equal(r.body.migration_id, r.body.data.migration_id, 'top-level copy');
  const status = await s.call('GET', `sys/remount/status/${r.body.data.migration_id}`);
  assert.equal(status.status, 200);
  assert.deepEqual(status.body.data, {
    migration_id: r.body.data.migration_id, migration_info: { source_mount: 'from-here/', target_mount: 'to/there/', status: 'success' },
  });
  assert.equal((await s.call('GET', 'sys/remount/status/00000000-0000-0000-0000-000000000000')).status, 404);

  const listed = (await s.call('GET', 'sys/mounts')).body.data;
  assert.equal(listed['from-here/'], undefined);
  assert.equal(listed['to/there/'].uuid, before.uuid);
  assert.equal((await s.call('GET', 'to/there/k')).body.data.v, 'moved');
  assert.equal((await s.call('GET', 'from-here/k')).status, 404);

  const errors: [unknown, RegExp][] = [
    [{ from: 'to/there' }, /both 'from' and 'to'/],
    [{ from: 'to/there', to: 'secret' }, /path is already in use at secret\//],
    [{ from: 'to/there', to: 'auth/kv' }, /cannot remount non-auth mount to auth mount/],
    [{ from: 'auth/token', to: 'elsewhere' }, /cannot remount auth mount to non-auth mount/],
    [{ from: 'nothing-here', to: 'x' }, /no mount at nothing-here\//],
    [{ from: 'to/there', to: 'sys/x' }, /reserved/],
  ];
  for (const [body, message] of errors) {
    const e = await s.call('POST', 'sys/remount', body);
    assert.equal(e.status, 400, JSON.stringify(body));
    assert.match(e.body.errors[0], message);
  }
});

test('sys/auth lists, reads and tunes auth methods; enabling and disabling follow Vault', async () => {
  const list = await s.call('GET', 'sys/auth');
  assert.equal(list.status, 200);
  const token = list.body.data['token/'];
  assert.deepEqual(Object.keys(token).sort(), MOUNT_KEYS);
  assert.equal(token.type, 'token');
  assert.match(token.accessor, /^auth_token_/);
  assert.deepEqual(token.config, { default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false, token_type: 'default-service' });
  assert.deepEqual(list.body['token/'], token, 'top-level copy');
  assert.equal((await s.call('GET', 'sys/auth/token')).body.data.uuid, token.uuid);

  assert.deepEqual((await s.call('GET', 'sys/auth/token/tune')).body.data, {
    description: 'token based credentials', default_lease_ttl: 2_764_800, max_lease_ttl: 2_764_800, force_no_cache: false, token_type: 'default-service',
  });
  assert.equal((await s.call('POST', 'sys/auth/token/tune', { description: 'tokens', max_lease_ttl: '24h' })).status, 204);
  const tuned = (await s.call('GET', 'sys/auth/token/tune')).body.data;
  assert.equal(tuned.description, 'tokens');
  assert.equal(tuned.max_lease_ttl, 86_400);
  // Vault lets sys/mounts/auth/... reach the auth table for tuning too.
  assert.equal((await s.call('GET', 'sys/mounts/auth/token/tune')).body.data.description, 'tokens');
  const tt = await s.call('POST', 'sys/auth/token/tune', { token_type: 'batch' });
  assert.equal(tt.status, 400);
  assert.match(tt.body.errors[0], /'token_type' cannot be set for 'token' auth mounts/);
  assert.match((await s.call('POST', 'sys/mounts/secret/tune', { token_type: 'batch' })).body.errors[0], /only be modified on auth mounts/);

  const cases: [string, unknown, RegExp][] = [
    ['sys/auth/userpass-x', { type: 'no-such-method' }, /plugin not found in the catalog: no-such-method/],
    ['sys/auth/tok2', { type: 'token' }, /token credential backend cannot be instantiated/],
    ['sys/auth/typeless', {}, /backend type must be specified/],
    ['sys/auth/token', { type: 'token' }, /token credential backend cannot be instantiated/],
  ];
  for (const [path, body, message] of cases) {
    const r = await s.call('POST', path, body);
    assert.equal(r.status, 400, path);
    assert.match(r.body.errors[0], message, path);
  }
  assert.equal((await s.call('GET', 'sys/auth/nothing')).status, 400);
  assert.equal((await s.call('DELETE', 'sys/auth/nothing')).status, 204);
});

test('sys/auth/* and sys/remount need sudo; sys/mounts needs only the capability', async () => {
  const t = await tokenWith(s, 'mount-admin', `
    path "sys/mounts" { capabilities = ["read"] }
    path "sys/mounts/*" { capabilities = ["create", "read", "update", "delete"] }
    path "sys/auth" { capabilities = ["read"] }
    path "sys/auth/*" { capabilities = ["create", "read", "update", "delete"] }
    path "sys/remount" { capabilities = ["update"] }
  `);
  const as = { 'X-Vault-Token': t };
  assert.equal((await s.call('GET', 'sys/mounts', undefined, as)).status, 200);
  assert.equal((await s.call('POST', 'sys/mounts/by-admin', { type: 'kv' }, as)).status, 204);
  assert.equal((await s.call('GET', 'sys/mounts/by-admin/tune', undefined, as)).status, 200);
  assert.equal((await s.call('GET', 'sys/auth', undefined, as)).status, 200);
  assert.equal((await s.call('GET', 'sys/auth/token/tune', undefined, as)).status, 403);
  assert.equal((await s.call('POST', 'sys/auth/up', { type: 'userpass' }, as)).status, 403);
  assert.equal((await s.call('POST', 'sys/remount', { from: 'by-admin', to: 'elsewhere' }, as)).status, 403);
  assert.equal((await s.call('DELETE', 'sys/mounts/by-admin', undefined, as)).status, 204);

  const sudo = await tokenWith(s, 'auth-admin', 'path "sys/auth/*" { capabilities = ["read", "update", "sudo"] }');
  assert.equal((await s.call('GET', 'sys/auth/token/tune', undefined, { 'X-Vault-Token': sudo })).status, 200);
  const none = await tokenWith(s, 'nothing', 'path "secret/*" { capabilities = ["read"] }');
  assert.equal((await s.call('GET', 'sys/mounts', undefined, { 'X-Vault-Token': none })).status, 403);
});

test('sys/internal/ui/mounts/:path answers for any capability under the mount, else 403', async () => {
  const root = await s.call('GET', 'sys/internal/ui/mounts/secret/data/deep/key');
  assert.equal(root.status, 200);
  assert.equal(root.body.data.path, 'secret/');
  assert.equal(root.body.data.type, 'kv');
  assert.deepEqual(root.body.data.options, { version: '2' });

  const reader = await tokenWith(s, 'app-reader', 'path "secret/data/app/*" { capabilities = ["read"] }');
  const ok = await s.call('GET', 'sys/internal/ui/mounts/secret', undefined, { 'X-Vault-Token': reader });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.data.path, 'secret/');

  const outsider = await tokenWith(s, 'outsider', 'path "elsewhere/*" { capabilities = ["read"] }');
  const refused = await s.call('GET', 'sys/internal/ui/mounts/secret', undefined, { 'X-Vault-Token': outsider });
  assert.equal(refused.status, 403);
  assert.equal(refused.body.errors[0], 'preflight capability check returned 403, please ensure client\'s policies grant access to path "secret/"');
  // An unknown mount looks exactly like a forbidden one.
  const unknown = await s.call('GET', 'sys/internal/ui/mounts/no-such-mount', undefined, { 'X-Vault-Token': reader });
  assert.equal(unknown.status, 403);
  assert.equal(unknown.body.errors[0], 'preflight capability check returned 403, please ensure client\'s policies grant access to path "no-such-mount/"');
  assert.equal((await s.call('GET', 'sys/internal/ui/mounts/secret', undefined, { 'X-Vault-Token': '' })).status, 403);
  assert.equal((await s.call('GET', 'sys/internal/ui/mounts/secret', undefined, { 'X-Vault-Token': 'cfs.not-a-token' })).status, 403);
});

test('sys/internal/ui/mounts lists what the caller can reach; without a token only unauth-visible mounts', async () => {
  assert.equal((await s.call('POST', 'sys/mounts/public', { type: 'kv', description: 'for all', config: { listing_visibility: 'unauth' } })).status, 204);
  const anon = await s.call('GET', 'sys/internal/ui/mounts', undefined, { 'X-Vault-Token': '' });
  assert.equal(anon.status, 200);
  assert.deepEqual(anon.body.data, { secret: { 'public/': { type: 'kv', description: 'for all', options: {} } }, auth: {} });

  const reader = await tokenWith(s, 'list-reader', 'path "secret/data/*" { capabilities = ["read"] }');
  const seen = (await s.call('GET', 'sys/internal/ui/mounts', undefined, { 'X-Vault-Token': reader })).body.data;
  assert.ok(seen.secret['secret/'].uuid, 'secret/ with its full entry');
  assert.ok(seen.secret['public/'], 'unauth-visible mounts too');
  assert.ok(seen.secret['cubbyhole/'], 'the default policy reaches cubbyhole/');
  assert.equal(seen.secret['tunes/'], undefined, 'mounts it cannot reach are left out');
  assert.ok(seen.auth['token/'], 'the default policy reaches auth/token/');

  const all = (await s.call('GET', 'sys/internal/ui/mounts')).body.data;
  assert.ok(all.secret['tunes/'] && all.secret['sys/'] && all.auth['token/']);
});

test('the mount table lives in the barrier and survives a restart', async () => {
  const dir = tmpDir('coffer-mounts');
  const first = await startDevServer({ dataDir: dir });
  assert.equal((await first.call('POST', 'sys/mounts/kept', { type: 'kv', description: 'survives', options: { version: '1' }, config: { max_lease_ttl: '2h' } })).status, 204);
  const before = (await first.call('GET', 'sys/mounts/kept')).body.data;
  assert.equal((await first.call('POST', 'kept/k', { v: 1 })).status, 204);
  await first.server.close();

  const second = await startDevServer({ dataDir: dir });
  const after = await second.call('GET', 'sys/mounts/kept');
  assert.equal(after.status, 200);
  assert.deepEqual(after.body.data, before);
  assert.equal((await second.call('GET', 'kept/k')).body.data.v, 1);
});
