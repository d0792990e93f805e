import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { PrefixView, collectKeys } from '../../src/storage/view.js';
import { callers, ok, startDevServer, type CallResult } from '../helpers/server.js';

const s = await startDevServer();
type Res = CallResult;
const { root, anon } = callers(s);
const roleId = async (role: string): Promise<string> => (await ok(root('GET', `auth/approle/role/${role}/role-id`), 200)).data.role_id;
const newSecret = async (role: string, body: Record<string, unknown> = {}): Promise<{ secret_id: string; secret_id_accessor: string; secret_id_ttl: number; secret_id_num_uses: number }> =>
  (await ok(root('POST', `auth/approle/role/${role}/secret-id`, body), 200)).data;
const login = (role_id: string, secret_id?: string): Promise<Res> => anon('POST', 'auth/approle/login', { role_id, ...(secret_id === undefined ? {} : { secret_id }) });

await ok(root('POST', 'sys/auth/approle', { type: 'approle' }));
await ok(root('PUT', 'sys/policy/ci', { policy: 'path "secret/data/ci/*" { capabilities = ["read"] }' }));

test('roles: create, read with Vault\'s fields, list, role-id (generated and custom)', async () => {
  await ok(root('POST', 'auth/approle/role/CI', { token_policies: 'ci', token_ttl: '20m', secret_id_num_uses: 2, secret_id_ttl: '10m' }));
  const read = await ok(root('GET', 'auth/approle/role/ci'), 200);
  assert.deepEqual(read.data, {
    bind_secret_id: true, secret_id_bound_cidrs: [], secret_id_num_uses: 2, secret_id_ttl: 600, local_secret_ids: false,
    token_bound_cidrs: [], token_explicit_max_ttl: 0, token_max_ttl: 0, token_no_default_policy: false, token_num_uses: 0,
    token_period: 0, token_policies: ['ci'], token_ttl: 1200, token_type: 'default',
  });
  assert.match(await roleId('ci'), /^[0-9a-f-]{36}$/);
  await ok(root('POST', 'auth/approle/role/other', { role_id: 'custom-other' }));
  assert.equal(await roleId('other'), 'custom-other');
  const taken = await root('POST', 'auth/approle/role/ci/role-id', { role_id: 'custom-other' });
  assert.deepEqual([taken.status, taken.body.errors], [400, ['role_id already in use']]);
  await ok(root('POST', 'auth/approle/role/other/role-id', { role_id: 'renamed-other' }));
  assert.equal(await roleId('other'), 'renamed-other');
  assert.deepEqual((await ok(root('LIST', 'auth/approle/role'), 200)).data.keys, ['ci', 'other']);
  const none = await root('POST', 'auth/approle/role/loose', { bind_secret_id: false });
  assert.deepEqual([none.status, none.body.errors], [400, ['at least one constraint should be enabled on the role']]);
});

test('secret IDs: issue, list accessors, lookup, log in; num_uses is enforced', async () => {
  const issued = await newSecret('ci', { metadata: JSON.stringify({ pipeline: 'build-7' }) });
  assert.match(issued.secret_id, /^[0-9a-f-]{36}$/);
  assert.deepEqual([issued.secret_id_ttl, issued.secret_id_num_uses], [600, 2]);
  assert.ok((await ok(root('LIST', 'auth/approle/role/ci/secret-id'), 200)).data.keys.includes(issued.secret_id_accessor));
  const lookup = await ok(root('POST', 'auth/approle/role/ci/secret-id/lookup', { secret_id: issued.secret_id }), 200);
  assert.deepEqual(lookup.data.metadata, { pipeline: 'build-7' });
  assert.equal(lookup.data.secret_id_accessor, issued.secret_id_accessor);
  assert.equal(JSON.stringify(lookup).includes(issued.secret_id), false);
  const byAccessor = await ok(root('POST', 'auth/approle/role/ci/secret-id-accessor/lookup', { secret_id_accessor: issued.secret_id_accessor }), 200);
  assert.equal(byAccessor.data.secret_id_num_uses, 2);

  const id = await roleId('ci');
  const first = (await ok(login(id, issued.secret_id), 200)).auth;
  assert.deepEqual(first.metadata, { pipeline: 'build-7', role_name: 'ci' });
  assert.deepEqual(first.policies, ['ci', 'default']);
  assert.equal(first.lease_duration, 1200);
  const self = await ok(s.call('GET', 'auth/token/lookup-self', undefined, { 'X-Vault-Token': first.client_token }), 200);
  assert.deepEqual([self.data.display_name, self.data.role, self.data.path], ['approle', 'ci', 'auth/approle/login']);
  assert.equal((await ok(root('POST', 'auth/approle/role/ci/secret-id/lookup', { secret_id: issued.secret_id }), 200)).data.secret_id_num_uses, 1);
  await ok(login(id, issued.secret_id), 200);
  const third = await login(id, issued.secret_id);
  assert.deepEqual([third.status, third.body], [400, { errors: ['invalid role or secret ID'] }]);
  assert.equal((await root('POST', 'auth/approle/role/ci/secret-id/lookup', { secret_id: issued.secret_id })).status, 204);

  const wrongRole = await login('no-such-role-id', issued.secret_id);
  assert.deepEqual([wrongRole.status, wrongRole.body], [400, { errors: ['invalid role or secret ID'] }]);
  assert.deepEqual((await login(id)).body.errors, ['missing secret_id']);
});

test('per-secret limits stay within the role\'s', async () => {
  const over = await root('POST', 'auth/approle/role/ci/secret-id', { num_uses: 5 });
  assert.deepEqual([over.status, over.body.errors], [400, ["num_uses cannot be higher than the role's secret_id_num_uses"]]);
  const longer = await root('POST', 'auth/approle/role/ci/secret-id', { ttl: '1h' });
  assert.deepEqual([longer.status, longer.body.errors], [400, ["ttl cannot be longer than the role's secret_id_ttl"]]);
  const one = await newSecret('ci', { num_uses: 1, ttl: '5m' });
  assert.deepEqual([one.secret_id_num_uses, one.secret_id_ttl], [1, 300]);
});

test('CIDRs: a login from outside secret_id_bound_cidrs or a secret ID\'s cidr_list is refused', async () => {
  await ok(root('POST', 'auth/approle/role/far', { secret_id_bound_cidrs: '10.0.0.0/8' }));
  const far = await newSecret('far');
  const refused = await login(await roleId('far'), far.secret_id);
  assert.equal(refused.status, 400);
  assert.match(refused.body.errors[0], /unauthorized by CIDR restrictions on the role/);
  const notSubset = await root('POST', 'auth/approle/role/far/secret-id', { cidr_list: '192.168.0.0/16' });
  assert.equal(notSubset.status, 400);

  await ok(root('POST', 'auth/approle/role/near', { secret_id_bound_cidrs: ['127.0.0.0/8', '::1/128'], secret_id_num_uses: 1 }));
  const narrow = await newSecret('near', { cidr_list: '127.0.0.2/32' });
  const wrongIp = await login(await roleId('near'), narrow.secret_id);
  assert.match(wrongIp.body.errors[0], /unauthorized through CIDR restrictions on the secret ID/);
  // A refused login spends no use.
  assert.equal((await ok(root('POST', 'auth/approle/role/near/secret-id/lookup', { secret_id: narrow.secret_id }), 200)).data.secret_id_num_uses, 1);
  const wide = await newSecret('near', { cidr_list: '127.0.0.0/24', token_bound_cidrs: '127.0.0.1/32' });
  const auth = (await ok(login(await roleId('near'), wide.secret_id), 200)).auth;
  const look = await ok(root('POST', 'auth/token/lookup', { token: auth.client_token }), 200);
  assert.deepEqual(look.data.bound_cidrs, ['127.0.0.1/32']);
});

test('bind_secret_id=false: the role_id alone logs in (from the bound CIDRs)', async () => {
  await ok(root('POST', 'auth/approle/role/open', { bind_secret_id: false, token_bound_cidrs: '127.0.0.1/32', role_id: 'open-role' }));
  const auth = (await ok(login('open-role'), 200)).auth;
  assert.deepEqual(auth.metadata, { role_name: 'open' });
  assert.equal((await root('POST', 'auth/approle/role/open/secret-id', {})).status, 400);
});

test('custom secret IDs, destroy and destroy by accessor', async () => {
  const custom = (await ok(root('POST', 'auth/approle/role/ci/custom-secret-id', { secret_id: 'my-own-secret-id-1' }), 200)).data;
  assert.equal(custom.secret_id, 'my-own-secret-id-1');
  assert.equal((await root('POST', 'auth/approle/role/ci/custom-secret-id', { secret_id: 'my-own-secret-id-1' })).status, 400);
  await ok(root('POST', 'auth/approle/role/ci/secret-id/destroy', { secret_id: 'my-own-secret-id-1' }));
  assert.equal((await login(await roleId('ci'), 'my-own-secret-id-1')).status, 400);
  const other = await newSecret('ci');
  await ok(root('POST', 'auth/approle/role/ci/secret-id-accessor/destroy', { secret_id_accessor: other.secret_id_accessor }));
  assert.equal((await login(await roleId('ci'), other.secret_id)).status, 400);
  assert.equal((await root('POST', 'auth/approle/role/ci/secret-id-accessor/lookup', { secret_id_accessor: other.secret_id_accessor })).status, 404);
});

test('secret IDs are stored only as HMACs: no stored record (decrypted) holds one', async () => {
  const canary = (await ok(root('POST', 'auth/approle/role/ci/custom-secret-id', { secret_id: 'canary-secret-id-9f2e' }), 200)).data.secret_id as string;
  const generated = (await newSecret('ci')).secret_id;
  const uuid = (await ok(root('GET', 'sys/auth/approle'), 200)).data.uuid as string;
  const view = new PrefixView(s.server.core.barrier, `auth/${uuid}/`);
  const keys = await collectKeys(view);
  assert.ok(keys.length > 5);
  for (const key of keys) {
    const value = Buffer.from((await view.get(key))!);
    for (const needle of [canary, generated]) {
      assert.equal(key.includes(needle) || value.includes(Buffer.from(needle)), false, `${key} holds a secret ID`);
    }
  }
});

test('expired secret IDs stop working and tidy/secret-id removes them', async () => {
  await ok(root('POST', 'auth/approle/role/short', { secret_id_ttl: '1s' }));
  const short = await newSecret('short');
  await sleep(1200);
  assert.equal((await login(await roleId('short'), short.secret_id)).status, 400);
  await newSecret('short');
  await sleep(1200);
  const tidy = await root('POST', 'auth/approle/tidy/secret-id');
  assert.equal(tidy.status, 202);
  assert.equal(tidy.body.data.secret_ids, 1);
  assert.equal((await root('LIST', 'auth/approle/role/short/secret-id')).status, 404);
});

test('deleting a role deletes its secret IDs; failures lock the role_id out', async () => {
  await ok(root('POST', 'auth/approle/role/doomed', {}));
  const id = await roleId('doomed');
  const secret = await newSecret('doomed');
  for (let i = 0; i < 5; i++) assert.equal((await login(id, 'wrong-secret')).status, 400);
  assert.deepEqual((await login(id, secret.secret_id)).body, { errors: ['permission denied'] });
  const accessor = (await ok(root('GET', 'sys/auth/approle'), 200)).data.accessor as string;
  await ok(root('POST', `sys/locked-users/${accessor}/unlock/${id}`));
  await ok(login(id, secret.secret_id), 200);
  await ok(root('DELETE', 'auth/approle/role/doomed'));
  assert.equal((await login(id, secret.secret_id)).status, 400);
  assert.equal((await root('GET', 'auth/approle/role/doomed')).status, 404);
});
