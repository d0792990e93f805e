import { test } from 'node:test';
import assert from 'node:assert/strict';
import nodeVault from 'node-vault';
import { join } from 'node:path';
import { startDevServer } from '../helpers/server.js';
import { tmpDir } from '../helpers/tmp.js';

/**
 * npm node-vault 0.12 against a dev server, through its own functions: it resolves only on
 * 200/204 and rejects with `errors[0]` otherwise, and token-creating calls switch the client
 * to the new token.
 */
const s = await startDevServer();
const client = (options: { token?: string; noCustomHTTPVerbs?: boolean } = {}) =>
  nodeVault({ endpoint: s.addr, token: options.token ?? s.rootToken, ...(options.noCustomHTTPVerbs ? { noCustomHTTPVerbs: true } : {}) });

/** The status node-vault rejected with (it throws ApiResponseError with `response.statusCode`). */
async function rejection(p: Promise<unknown>): Promise<{ status: number; message: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as { response?: { statusCode: number }; message: string };
    return { status: err.response?.statusCode ?? -1, message: err.message };
  }
  assert.fail('expected the call to be rejected');
}

test('generic read/write/list/update/delete on KV v2 paths', async () => {
  const v = client();
  const w = await v.write('secret/data/app/one', { data: { user: 'u1', pass: 'p1' } });
  assert.equal(w.data.version, 1);
  await v.write('secret/data/app/two', { data: { k: 'v' }, options: { cas: 0 } });
  await v.write('secret/data/root-level', { data: { a: 1 } });

  const r = await v.read('secret/data/app/one');
  assert.deepEqual(r.data.data, { user: 'u1', pass: 'p1' });
  assert.equal(r.data.metadata.version, 1);
  assert.equal(r.lease_duration, 0);

  assert.deepEqual((await v.list('secret/metadata/')).data.keys, ['app/', 'root-level']);
  assert.deepEqual((await v.list('secret/metadata/app')).data.keys, ['one', 'two']);
  const get = client({ noCustomHTTPVerbs: true });
  assert.deepEqual((await get.list('secret/metadata/')).data.keys, ['app/', 'root-level']);
  assert.deepEqual((await get.list('secret/metadata/app/')).data.keys, ['one', 'two']);
  assert.equal((await rejection(v.list('secret/metadata/none'))).status, 404);
  assert.equal((await rejection(get.list('secret/metadata/none'))).status, 404);

  // node-vault's update is PATCH with application/merge-patch+json: a null removes a key
  const u = await v.update('secret/data/app/one', { data: { pass: 'p2', user: null, port: 5432 } });
  assert.equal(u.data.version, 2);
  assert.deepEqual((await v.read('secret/data/app/one')).data.data, { pass: 'p2', port: 5432 });
  const cas = await rejection(v.update('secret/data/app/one', { data: { a: 1 }, options: { cas: 1 } }));
  assert.deepEqual(cas, { status: 400, message: 'check-and-set parameter did not match the current version' });
  assert.equal((await rejection(v.update('secret/data/app/missing', { data: { a: 1 } }))).status, 404);

  // DELETE soft-deletes the latest version: a read is a 404 that still carries the metadata
  await v.delete('secret/data/app/one');
  const gone = await rejection(v.read('secret/data/app/one'));
  assert.equal(gone.status, 404);
  await v.write('secret/undelete/app/one', { versions: [2] });
  assert.equal((await v.read('secret/data/app/one')).data.metadata.version, 2);
  await v.destroySecretVersions({ path: 'app/one', versions: [1] });
  const meta = await v.read('secret/metadata/app/one');
  assert.equal(meta.data.versions['1'].destroyed, true);
  assert.equal(meta.data.current_version, 2);
  await v.write('secret/metadata/app/one', { max_versions: 3, custom_metadata: { owner: 'ops' } });
  await v.update('secret/metadata/app/one', { custom_metadata: { tier: 'gold' } });
  assert.deepEqual((await v.read('secret/metadata/app/one')).data.custom_metadata, { owner: 'ops', tier: 'gold' });
  assert.deepEqual((await v.read('secret/subkeys/app/one')).data.subkeys, { pass: null, port: null });
  await v.delete('secret/metadata/app/one');
  assert.equal((await rejection(v.read('secret/metadata/app/one'))).status, 404);
  assert.deepEqual((await v.list('secret/metadata/app')).data.keys, ['two']);

  const missing = await rejection(v.read('secret/data/never'));
  assert.equal(missing.status, 404);
  const patchWrongType = await rejection(v.request({ path: '/secret/data/app/two', method: 'PATCH', json: { data: { a: 1 } } }));
  assert.equal(patchWrongType.status, 415);
});

test('generic calls on KV v1 and cubbyhole', async () => {
  const v = client();
  await v.mount({ mount_point: 'kv1', type: 'kv', options: { version: '1' } });
  await v.write('kv1/team/a', { k: 'v', ttl: '30m' });
  await v.write('kv1/team/b', { k: 'w' });
  const r = await v.read('kv1/team/a');
  assert.deepEqual(r.data, { k: 'v', ttl: '30m' });
  assert.equal(r.lease_duration, 1800);
  assert.deepEqual((await v.list('kv1/team')).data.keys, ['a', 'b']);
  assert.deepEqual((await client({ noCustomHTTPVerbs: true }).list('kv1/team')).data.keys, ['a', 'b']);
  await v.delete('kv1/team/a');
  assert.equal((await rejection(v.read('kv1/team/a'))).status, 404);
  // KV v1 has no PATCH: Vault answers 405
  assert.equal((await rejection(v.update('kv1/team/b', { k: 'x' }))).status, 405);

  await v.write('cubbyhole/note', { text: 'mine' });
  assert.deepEqual((await v.read('cubbyhole/note')).data, { text: 'mine' });
  assert.deepEqual((await v.list('cubbyhole')).data.keys, ['note']);
});

test('tokens: create, lookup, renew, roles, accessors, revoke', async () => {
  const admin = client();
  await admin.addPolicy({ name: 'minter', rules: 'path "auth/token/create" { capabilities = ["update"] }' });

  // tokenCreate switches the client to the new token (node-vault's tokenSource)
  const minter = client();
  const created = await minter.tokenCreate({ policies: ['default', 'minter'], ttl: '1h', display_name: 'nv', meta: { app: 'x' } });
  assert.equal(minter.token, created.auth.client_token);
  assert.deepEqual(created.auth.policies, ['default', 'minter']);
  assert.equal(created.auth.lease_duration, 3600);
  assert.equal(created.auth.renewable, true);

  const self = await minter.tokenLookupSelf();
  assert.equal(self.data.display_name, 'token-nv');
  assert.deepEqual(self.data.meta, { app: 'x' });
  const renewed = await minter.tokenRenewSelf({ increment: '2h' });
  assert.equal(renewed.auth.lease_duration, 7200);
  const childToken = (await client({ token: created.auth.client_token }).tokenCreate({ policies: ['default'], ttl: '10m' })).auth.client_token;

  const looked = await admin.tokenLookup({ token: created.auth.client_token });
  assert.equal(looked.data.accessor, created.auth.accessor);
  const byAccessor = await admin.tokenLookupAccessor({ accessor: created.auth.accessor });
  assert.equal(byAccessor.data.id, '');
  assert.equal(byAccessor.data.display_name, 'token-nv');
  const accessors = await admin.tokenAccessors();
  assert.ok(accessors.data.keys.includes(created.auth.accessor));
  assert.equal((await rejection(client({ token: childToken }).tokenAccessors())).status, 403);
  const renewedByAdmin = await client().tokenRenew({ token: created.auth.client_token, increment: 600 });
  assert.equal(renewedByAdmin.auth.lease_duration, 600);

  // roles
  await admin.addTokenRole({ role_name: 'ci', allowed_policies: 'default,minter', orphan: true });
  assert.deepEqual((await admin.getTokenRole({ role_name: 'ci' })).data.allowed_policies, ['default', 'minter']);
  assert.deepEqual((await admin.tokenRoles()).data.keys, ['ci']);
  const roleToken = await client().tokenCreateRole({ role_name: 'ci', policies: ['minter'] });
  assert.equal(roleToken.auth.orphan, true);
  assert.deepEqual(roleToken.auth.policies, ['default', 'minter']);
  await admin.removeTokenRole({ role_name: 'ci' });
  assert.equal((await rejection(admin.getTokenRole({ role_name: 'ci' }))).status, 404);

  const orphan = await client().tokenCreateOrphan({ policies: ['default'], ttl: '10m' });
  assert.equal(orphan.auth.orphan, true);
  await admin.tokenRevokeAccessor({ accessor: orphan.auth.accessor });
  assert.equal((await rejection(client({ token: orphan.auth.client_token }).tokenLookupSelf())).status, 403);

  // revoking the parent revokes the child
  await admin.tokenRevoke({ token: created.auth.client_token });
  assert.equal((await rejection(minter.tokenLookupSelf())).status, 403);
  assert.equal((await rejection(client({ token: childToken }).tokenLookupSelf())).status, 403);

  // revoke-orphan keeps the children
  const parent = client();
  const parentAuth = (await parent.tokenCreate({ policies: ['default', 'minter'], ttl: '10m' })).auth;
  const orphaned = (await client({ token: parentAuth.client_token }).tokenCreate({ policies: ['default'], ttl: '10m' })).auth;
  await admin.tokenRevokeOrphan({ token: parentAuth.client_token });
  assert.equal((await rejection(parent.tokenLookupSelf())).status, 403);
  assert.equal((await client({ token: orphaned.client_token }).tokenLookupSelf()).data.orphan, true);

  const selfRevoking = client();
  await selfRevoking.tokenCreate({ policies: ['default'], ttl: '5m' });
  await selfRevoking.tokenRevokeSelf();
  const after = await rejection(selfRevoking.tokenLookupSelf());
  assert.deepEqual(after, { status: 403, message: 'permission denied' });
});

test('policies: addPolicy, getPolicy, policies, removePolicy', async () => {
  const v = client();
  const hcl = 'path "secret/data/nv/*" {\n  capabilities = ["read"]\n}\n';
  await v.addPolicy({ name: 'NV-Reader', rules: hcl });
  const got = await v.getPolicy({ name: 'nv-reader' });
  assert.equal(got.rules, hcl);
  assert.equal(got.data.rules, hcl);
  assert.equal(got.name, 'nv-reader');
  await v.addPolicy({ name: 'nv-json', policy: JSON.stringify({ path: { 'secret/data/j/*': { capabilities: ['list'] } } }) });
  const all = await v.policies();
  assert.deepEqual(all.policies, all.data.policies);
  assert.ok(all.policies.includes('nv-reader') && all.policies.includes('nv-json'));
  await v.removePolicy({ name: 'nv-json' });
  assert.equal((await rejection(v.getPolicy({ name: 'nv-json' }))).status, 404);
  const bad = await rejection(v.addPolicy({ name: 'bad', rules: 'path "x" { capabilities = ["fly"] }' }));
  assert.equal(bad.status, 400);
  assert.equal((await rejection(v.removePolicy({ name: 'root' }))).status, 400);
});

test('mounts: mount, mounts, remount, unmount, auths', async () => {
  const v = client();
  await v.mount({ mount_point: 'nvkv', type: 'kv-v2', description: 'node-vault', config: { default_lease_ttl: '1h' } });
  const mounts = await v.mounts();
  // Vault copies sys/mounts data to the top level; node-vault users read it there
  assert.equal(mounts['nvkv/'].type, 'kv');
  assert.deepEqual(mounts['nvkv/'].options, { version: '2' });
  assert.equal(mounts.data['nvkv/'].config.default_lease_ttl, 3600);
  await v.write('nvkv/data/x', { data: { moved: true } });
  const moved = await v.remount({ from: 'nvkv', to: 'nvkv2' });
  assert.match(moved.data.migration_id, /^[0-9a-f-]{36}$/);
  assert.deepEqual((await v.read('nvkv2/data/x')).data.data, { moved: true });
  assert.equal((await v.read(`sys/remount/status/${moved.data.migration_id}`)).data.migration_info.status, 'success');
  await v.unmount({ mount_point: 'nvkv2' });
  assert.equal((await v.mounts())['nvkv2/'], undefined);
  assert.equal((await rejection(v.mount({ mount_point: 'secret', type: 'kv' }))).status, 400);
  assert.equal((await rejection(v.mount({ mount_point: 'x', type: 'no-such-engine' }))).status, 400);

  const auths = await v.auths();
  assert.equal(auths['token/'].type, 'token');
  assert.equal(auths.data['token/'].type, 'token');
});

test('audit devices and transit through node-vault\'s own functions', async () => {
  const v = client();
  const file = join(tmpDir('nv-audit'), 'audit.log');
  await v.enableAudit({ name: 'nv-file', type: 'file', options: { file_path: file } });
  const audits = await v.audits();
  assert.equal(audits['nv-file/'].type, 'file');
  assert.equal(audits.data['nv-file/'].options.file_path, file);
  await v.disableAudit({ name: 'nv-file' });
  assert.equal((await v.audits())['nv-file/'], undefined);

  // node-vault's transit functions are hard-wired to the transit/ mount
  await v.mount({ mount_point: 'transit', type: 'transit' });
  await v.transitCreateKey({ name: 'nv' });
  assert.equal((await v.transitReadKey({ name: 'nv' })).data.type, 'aes256-gcm96');
  assert.deepEqual((await v.transitListKeys()).data.keys, ['nv']);
  const plaintext = Buffer.from('node-vault').toString('base64');
  const { ciphertext } = (await v.encryptData({ name: 'nv', plaintext })).data;
  assert.match(ciphertext, /^vault:v1:/);
  assert.equal((await v.decryptData({ name: 'nv', ciphertext })).data.plaintext, plaintext);
});

test('wrapping: wrapped reads and token creation, unwrap', async () => {
  const v = client();
  await v.write('secret/data/wrapme', { data: { s: 'hidden' } });
  const wrapped = await v.read('secret/data/wrapme', { headers: { 'X-Vault-Wrap-TTL': '5m' } });
  assert.equal(wrapped.data, null);
  assert.equal(wrapped.wrap_info.ttl, 300);
  assert.equal(wrapped.wrap_info.creation_path, 'secret/data/wrapme');
  const unwrapped = await v.unwrap({ token: wrapped.wrap_info.token });
  assert.deepEqual(unwrapped.data.data, { s: 'hidden' });
  assert.equal((await rejection(v.unwrap({ token: wrapped.wrap_info.token }))).status, 400);

  // Wrapping a token: node-vault's tokenSource finds no auth, so the client keeps its token
  const w = client();
  const wrappedToken = await w.tokenCreate({ policies: ['default'], ttl: '10m', requestOptions: { headers: { 'X-Vault-Wrap-TTL': '60' } } });
  assert.equal(w.token, s.rootToken);
  assert.equal(wrappedToken.auth, null);
  assert.equal(wrappedToken.wrap_info.creation_path, 'auth/token/create');
  // unwrap with the wrapping token as the client token (no body)
  const holder = client({ token: wrappedToken.wrap_info.token });
  const inner = await holder.unwrap();
  assert.deepEqual(inner.auth.policies, ['default']);
});

test('sys: status, initialized, health, leader, rotate, help; unsupported calls fail cleanly', async () => {
  const v = client();
  const status = await v.status();
  assert.equal(status.sealed, false);
  assert.equal(status.initialized, true);
  assert.equal(status.type, 'shamir');
  assert.deepEqual(await v.initialized(), { initialized: true });
  const health = await v.health();
  assert.equal(health.initialized, true);
  assert.equal(health.sealed, false);
  assert.equal(health.standby, false);
  const sealedCode = await v.health({ sealedcode: 299, activecode: 299 });
  assert.equal(sealedCode.sealed, false);
  const leader = await v.leader();
  assert.equal(typeof leader.ha_enabled, 'boolean');
  await v.rotate();
  const help = await v.help('secret/data/x');
  assert.equal(typeof help.help, 'string');

  // Without HA there is no other node: step-down is a 204 no-op, as on a Vault without HA.
  await v.stepDown();
  // Root token generation is supported (test/compat/generate-root.test.ts drives it to the end).
  const attempt = await v.generateRootInit({});
  assert.equal(attempt.started, true);
  assert.equal(attempt.otp.length, attempt.otp_length);
  await v.generateRootCancel();
  assert.equal((await v.read('sys/generate-root/attempt')).started, false);
});
