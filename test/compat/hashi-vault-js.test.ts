import { test } from 'node:test';
import assert from 'node:assert/strict';
import Vault from 'hashi-vault-js';
import { startDevServer } from '../helpers/server.js';

/**
 * npm hashi-vault-js 0.5 against a dev server. Its functions return `data` (or `auth`) of the
 * envelope, the whole body when there is neither, `{status, statusText}` on 204, and throw
 * axios errors marked `isVaultError` on any non-2xx. KV functions default to the `secret` mount.
 */
const s = await startDevServer();
// The package's .d.ts types many parameters as `string` where the code (and Vault) take lists,
// objects and numbers, and its results as `Object`: the tests call it through a loose view.
type Methods =
  | 'createKVSecret' | 'createKVSecretMeta' | 'createToken' | 'deleteLatestVerKVSecret'
  | 'deleteVersionsKVSecret' | 'destroyVersionsKVSecret' | 'eliminateKVSecret' | 'healthCheck'
  | 'listAccessors' | 'listKVSecrets' | 'lookupAccessor' | 'lookupSelfToken' | 'lookupToken'
  | 'readKVEngineConfig' | 'readKVSecret' | 'readKVSecretMeta' | 'renewAccessor'
  | 'renewSelfToken' | 'renewToken' | 'revokeAccessor' | 'revokeSelfToken' | 'revokeToken'
  | 'sealStatus' | 'sysCapabilities' | 'sysCapabilitiesSelf' | 'undeleteVersionsKVSecret'
  | 'updateKVEngineConfig' | 'updateKVSecret' | 'updateKVSecretMeta';
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<Methods, (...args: any[]) => Promise<any>>;
const vault = new Vault({ baseUrl: `${s.addr}/v1`, timeout: 5000 }) as unknown as Loose;
const root = s.rootToken;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const j = async (p: Promise<any>): Promise<any> => p;

async function vaultError(p: PromiseLike<unknown>): Promise<{ status: number; errors: unknown }> {
  try {
    await p;
  } catch (e) {
    const err = e as { isVaultError?: boolean; response?: { status: number; data: { errors?: unknown } } };
    assert.equal(err.isVaultError, true);
    return { status: err.response?.status ?? -1, errors: err.response?.data.errors };
  }
  assert.fail('expected a Vault error');
}

test('KV v2 functions: create, read, update, versions, list, metadata, config', async () => {
  const created = await j(vault.createKVSecret(root, 'hvj/app', { user: 'u', pass: 'p1' }));
  assert.equal(created.version, 1);
  // createKVSecret sends cas=0: a second create of the same name is refused, as by Vault
  assert.deepEqual(await vaultError(vault.createKVSecret(root, 'hvj/app', { x: 1 })), {
    status: 400, errors: ['check-and-set parameter did not match the current version'],
  });
  const updated = await j(vault.updateKVSecret(root, 'hvj/app', { user: 'u', pass: 'p2' }, 1));
  assert.equal(updated.version, 2);
  // updateKVSecret console.logs the whole axios response on failure; keep the test output readable
  const log = console.log;
  console.log = () => {};
  try {
    assert.equal((await vaultError(vault.updateKVSecret(root, 'hvj/app', { a: 1 }, 1))).status, 400);
  } finally {
    console.log = log;
  }

  const latest = await j(vault.readKVSecret(root, 'hvj/app'));
  assert.deepEqual(latest.data, { user: 'u', pass: 'p2' });
  assert.equal(latest.metadata.version, 2);
  const first = await j(vault.readKVSecret(root, 'hvj/app', 1));
  assert.equal(first.data.pass, 'p1');
  assert.equal((await vaultError(vault.readKVSecret(root, 'hvj/none'))).status, 404);

  await vault.createKVSecret(root, 'hvj/other', { k: 'v' });
  await vault.createKVSecret(root, 'top', { k: 'v' });
  // listKVSecrets without a folder sends LIST secret/metadata (no trailing slash)
  assert.deepEqual((await j(vault.listKVSecrets(root))).keys, ['hvj/', 'top']);
  assert.deepEqual((await j(vault.listKVSecrets(root, 'hvj'))).keys, ['app', 'other']);
  assert.deepEqual((await j(vault.listKVSecrets(root, 'hvj/'))).keys, ['app', 'other']);
  assert.equal((await vaultError(vault.listKVSecrets(root, 'empty'))).status, 404);

  const deleted = await j(vault.deleteLatestVerKVSecret(root, 'hvj/app'));
  assert.equal(deleted.status, 204);
  assert.equal((await vaultError(vault.readKVSecret(root, 'hvj/app'))).status, 404);
  assert.equal((await j(vault.undeleteVersionsKVSecret(root, 'hvj/app', [2]))).status, 204);
  assert.equal((await j(vault.readKVSecret(root, 'hvj/app'))).data.pass, 'p2');
  assert.equal((await j(vault.deleteVersionsKVSecret(root, 'hvj/app', [1]))).status, 204);
  assert.equal((await j(vault.destroyVersionsKVSecret(root, 'hvj/app', [1]))).status, 204);
  const meta = await j(vault.readKVSecretMeta(root, 'hvj/app'));
  assert.equal(meta.current_version, 2);
  assert.equal(meta.versions['1'].destroyed, true);

  assert.equal((await j(vault.createKVSecretMeta(root, 'hvj/app', { max_versions: 4, custom_metadata: { owner: 'me' } }))).status, 204);
  assert.equal((await j(vault.updateKVSecretMeta(root, 'hvj/app', { cas_required: true }))).status, 204);
  const meta2 = await j(vault.readKVSecretMeta(root, 'hvj/app'));
  assert.deepEqual([meta2.max_versions, meta2.cas_required, meta2.custom_metadata], [4, true, { owner: 'me' }]);

  assert.equal((await j(vault.eliminateKVSecret(root, 'hvj/app'))).status, 204);
  assert.equal((await vaultError(vault.readKVSecretMeta(root, 'hvj/app'))).status, 404);

  assert.equal((await j(vault.updateKVEngineConfig(root, { max_versions: 6, delete_version_after: '2h' }))).status, 204);
  assert.deepEqual(await j(vault.readKVEngineConfig(root)), { cas_required: false, delete_version_after: '2h0m0s', max_versions: 6 });

  // A KV v2 mount elsewhere, by the mount argument
  await s.call('POST', 'sys/mounts/other-kv', { type: 'kv', options: { version: '2' } });
  await vault.createKVSecret(root, 'x', { a: 'b' }, 'other-kv');
  assert.deepEqual((await j(vault.readKVSecret(root, 'x', undefined, 'other-kv'))).data, { a: 'b' });
});

test('token functions: create, lookup, renew, accessors, revoke', async () => {
  const created = await j(vault.createToken(root, { policies: ['default'], ttl: '1h', display_name: 'hvj', meta: { t: '1' } }));
  assert.ok(created.client_token && created.accessor);
  assert.deepEqual(created.policies, ['default']);
  assert.equal(created.lease_duration, 3600);
  const token = created.client_token as string;

  const self = await j(vault.lookupSelfToken(token));
  assert.equal(self.display_name, 'token-hvj');
  assert.deepEqual(self.meta, { t: '1' });
  assert.equal((await j(vault.lookupToken(root, token))).accessor, created.accessor);
  assert.equal((await j(vault.renewSelfToken(token, '2h'))).lease_duration, 7200);
  assert.equal((await j(vault.renewToken(root, token, 900))).lease_duration, 900);
  // renewAccessor sends `increment: null` when none is given
  assert.ok((await j(vault.renewAccessor(root, created.accessor))).lease_duration > 0);
  const byAccessor = await j(vault.lookupAccessor(root, created.accessor));
  assert.equal(byAccessor.id, '');
  assert.ok((await j(vault.listAccessors(root))).keys.includes(created.accessor));
  assert.equal((await vaultError(vault.listAccessors(token))).status, 403);

  const caps = await j(vault.sysCapabilitiesSelf(token, ['cubbyhole/x']));
  assert.deepEqual(caps.capabilities, ['create', 'delete', 'list', 'read', 'update']);
  const capsOf = await j(vault.sysCapabilities(root, token, ['secret/data/x']));
  assert.deepEqual(capsOf.capabilities, ['deny']);

  const orphan = await j(vault.createToken(root, { policies: ['default'], no_parent: true, ttl: '10m' }));
  assert.equal(orphan.orphan, true);
  assert.equal((await j(vault.revokeAccessor(root, orphan.accessor))).status, 204);
  assert.equal((await vaultError(vault.lookupSelfToken(orphan.client_token))).status, 403);

  const batch = await j(vault.createToken(root, { policies: ['default'], type: 'batch', ttl: '10m' }));
  assert.equal(batch.token_type, 'batch');
  assert.equal((await j(vault.lookupSelfToken(batch.client_token))).type, 'batch');

  assert.equal((await j(vault.revokeToken(root, token))).status, 204);
  assert.equal((await vaultError(vault.lookupSelfToken(token))).status, 403);
  const other = await j(vault.createToken(root, { policies: ['default'], ttl: '5m' }));
  assert.equal((await j(vault.revokeSelfToken(other.client_token))).status, 204);
  assert.deepEqual(await vaultError(vault.lookupSelfToken(other.client_token)), { status: 403, errors: ['permission denied'] });
});

test('sys functions: health and seal status', async () => {
  const health = await j(vault.healthCheck());
  assert.equal(health.initialized, true);
  assert.equal(health.sealed, false);
  assert.equal(health.standby, false);
  const withParams = await j(vault.healthCheck({ standbyok: true, activecode: 200 }));
  assert.equal(withParams.sealed, false);
  const status = await j(vault.sealStatus());
  assert.equal(status.sealed, false);
  assert.equal(status.initialized, true);
  assert.equal(status.t, 1);
});
