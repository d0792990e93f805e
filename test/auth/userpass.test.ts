import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callers, ok, startDevServer, type CallResult } from '../helpers/server.js';

const s = await startDevServer();
type Res = CallResult;
const { root, anon } = callers(s);
const as = (token: string) => (method: string, path: string, body?: unknown): Promise<Res> => s.call(method, path, body, { 'X-Vault-Token': token });

const mountAccessor = async (path: string): Promise<string> => (await ok(root('GET', `sys/auth/${path}`), 200)).data.accessor;

await ok(root('POST', 'sys/auth/userpass', { type: 'userpass' }));
await ok(root('PUT', 'sys/policy/p1', { policy: 'path "secret/data/p1" { capabilities = ["read"] }' }));

test('users: create, read (Vault\'s token fields, never the password), list, delete', async () => {
  await ok(root('POST', 'auth/userpass/users/Alice', { password: 'correct horse', token_policies: 'p1', token_ttl: '1h', token_max_ttl: '2h' }));
  const read = await ok(root('GET', 'auth/userpass/users/alice'), 200);
  assert.deepEqual(read.data, {
    token_bound_cidrs: [], token_explicit_max_ttl: 0, token_max_ttl: 7200, token_no_default_policy: false, token_num_uses: 0,
    token_period: 0, token_policies: ['p1'], token_ttl: 3600, token_type: 'default',
  });
  await ok(root('POST', 'auth/userpass/users/bob', { password: 'pw-bob', policies: 'B, a' }));
  const bob = await ok(root('GET', 'auth/userpass/users/bob'), 200);
  assert.deepEqual([bob.data.policies, bob.data.token_policies], [['a', 'b'], ['a', 'b']]);
  assert.deepEqual((await ok(root('LIST', 'auth/userpass/users'), 200)).data.keys, ['alice', 'bob']);
  await ok(root('DELETE', 'auth/userpass/users/bob'));
  assert.equal((await root('GET', 'auth/userpass/users/bob')).status, 404);
});

test('users: a password is required on create; bad names and TTLs are refused', async () => {
  const missing = await root('POST', 'auth/userpass/users/nopw', { token_policies: 'p1' });
  assert.equal(missing.status, 400);
  assert.deepEqual(missing.body.errors, ['missing password']);
  assert.equal((await root('POST', 'auth/userpass/users/-bad-', { password: 'x' })).status, 400);
  assert.equal((await root('POST', 'auth/userpass/users/ttl', { password: 'x', token_ttl: '3h', token_max_ttl: '1h' })).status, 400);
  assert.equal((await root('POST', 'auth/userpass/users/ty', { password: 'x', token_type: 'weird' })).status, 400);
});

test('the stored hash is argon2id with m=19456, t=2, p=1', async () => {
  await ok(root('POST', 'auth/userpass/users/hashcheck', { password: 'hash me' }));
  const uuid = (await ok(root('GET', 'sys/auth/userpass'), 200)).data.uuid as string;
  const raw = await s.server.core.barrier.get(`auth/${uuid}/user/hashcheck`);
  assert.ok(raw);
  const stored = JSON.parse(Buffer.from(raw).toString('utf8')) as { passwordHash: string };
  assert.match(stored.passwordHash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  assert.equal(Buffer.from(raw).includes(Buffer.from('hash me')), false);
});

test('login: Vault\'s auth block, an orphan token named after the mount, working and renewable', async () => {
  const body = await ok(anon('POST', 'auth/userpass/login/ALICE', { password: 'correct horse' }), 200);
  const auth = body.auth;
  assert.deepEqual(Object.keys(auth).sort(), ['accessor', 'client_token', 'entity_id', 'identity_policies', 'lease_duration', 'metadata', 'mfa_requirement',
    'num_uses', 'orphan', 'policies', 'renewable', 'token_policies', 'token_type'].sort());
  assert.match(auth.client_token, /^cfs\./);
  assert.deepEqual(auth.policies, ['default', 'p1']);
  assert.deepEqual(auth.token_policies, ['default', 'p1']);
  assert.deepEqual(auth.metadata, { username: 'alice' });
  assert.equal(auth.lease_duration, 3600);
  assert.equal(auth.renewable, true);
  assert.equal(auth.orphan, true);
  assert.equal(auth.token_type, 'service');
  // The identity store made an entity for the alias on this first login; the next login finds it.
  assert.match(auth.entity_id, /^[0-9a-f-]{36}$/);
  const again = (await ok(anon('POST', 'auth/userpass/login/alice', { password: 'correct horse' }), 200)).auth;
  assert.equal(again.entity_id, auth.entity_id);
  const entity = await ok(root('GET', `identity/entity/id/${auth.entity_id}`), 200);
  assert.deepEqual(entity.data.aliases.map((a: { name: string; mount_accessor: string }) => [a.name, a.mount_accessor]), [['alice', await mountAccessor('userpass')]]);
  assert.equal(body.mount_type, 'userpass');
  const self = await ok(as(auth.client_token)('GET', 'auth/token/lookup-self'), 200);
  assert.equal(self.data.display_name, 'userpass-alice');
  assert.equal(self.data.path, 'auth/userpass/login/ALICE');
  assert.equal(self.data.orphan, true);
  const renewed = await ok(as(auth.client_token)('POST', 'auth/token/renew-self', { increment: '3h' }), 200);
  // token_max_ttl (2h) caps a renewal, as in Vault.
  assert.ok(renewed.auth.lease_duration <= 7200 && renewed.auth.lease_duration > 7100, String(renewed.auth.lease_duration));
});

test('T9: unknown user and wrong password get byte-identical answers', async () => {
  const wrong = await anon('POST', 'auth/userpass/login/alice', { password: 'wrong' });
  const unknown = await anon('POST', 'auth/userpass/login/nobody-here', { password: 'wrong' });
  const damaged = await anon('POST', 'auth/userpass/login/alice', { password: 'x'.repeat(5000) });
  for (const r of [wrong, unknown, damaged]) {
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, { errors: ['invalid username or password'] });
  }
  assert.equal((await anon('POST', 'auth/userpass/login/alice', {})).status, 400);
  await ok(anon('POST', 'auth/userpass/login/alice', { password: 'correct horse' }), 200);
});

test('T9: lockout after the tuned threshold, the same for unknown users; sys/locked-users; unlock', async () => {
  await ok(root('POST', 'sys/auth/up-lock', { type: 'userpass' }));
  await ok(root('POST', 'sys/auth/up-lock/tune', { user_lockout_config: { lockout_threshold: '3', lockout_duration: '15m', lockout_counter_reset_duration: '15m' } }));
  const tune = await ok(root('GET', 'sys/auth/up-lock/tune'), 200);
  assert.equal(tune.data.user_lockout_threshold, 3);
  assert.equal(tune.data.user_lockout_duration, 900);
  await ok(root('POST', 'auth/up-lock/users/carol', { password: 'carol-pw' }));
  for (let i = 0; i < 3; i++) {
    for (const name of ['carol', 'ghost']) {
      const r = await anon('POST', `auth/up-lock/login/${name}`, { password: 'nope' });
      assert.deepEqual([r.status, r.body], [400, { errors: ['invalid username or password'] }]);
    }
  }
  // Locked: even the right password is refused, and the unknown name looks exactly the same.
  const locked = await anon('POST', 'auth/up-lock/login/carol', { password: 'carol-pw' });
  const ghost = await anon('POST', 'auth/up-lock/login/ghost', { password: 'carol-pw' });
  assert.deepEqual([locked.status, locked.body], [403, { errors: ['permission denied'] }]);
  assert.deepEqual([ghost.status, ghost.body], [locked.status, locked.body]);

  const accessor = await mountAccessor('up-lock');
  const list = await ok(root('GET', 'sys/locked-users'), 200);
  assert.equal(list.data.total, 2);
  assert.deepEqual(list.data.by_namespace[0].mount_accessors, [{ mount_accessor: accessor, counts: 2, alias_identifiers: ['carol', 'ghost'] }]);
  const filtered = await ok(root('GET', `sys/locked-users?mount_accessor=${accessor}`), 200);
  assert.equal(filtered.data.total, 2);

  await ok(root('POST', `sys/locked-users/${accessor}/unlock/carol`));
  await ok(anon('POST', 'auth/up-lock/login/carol', { password: 'carol-pw' }), 200);
  assert.equal((await anon('POST', 'auth/up-lock/login/ghost', { password: 'x' })).status, 403);
  assert.equal((await ok(root('GET', 'sys/locked-users'), 200)).data.total, 1);

  // Disabling lockout on the mount lets every attempt through to the password check.
  await ok(root('POST', 'sys/auth/up-lock/tune', { user_lockout_config: { lockout_disable: true } }));
  assert.equal((await anon('POST', 'auth/up-lock/login/ghost', { password: 'x' })).status, 400);
});

test('T9: the default threshold is 5 failures (Vault 1.13+)', async () => {
  await ok(root('POST', 'sys/auth/up-default', { type: 'userpass' }));
  await ok(root('POST', 'auth/up-default/users/dave', { password: 'dave-pw' }));
  for (let i = 0; i < 4; i++) assert.equal((await anon('POST', 'auth/up-default/login/dave', { password: 'no' })).status, 400);
  // A success clears the count.
  await ok(anon('POST', 'auth/up-default/login/dave', { password: 'dave-pw' }), 200);
  for (let i = 0; i < 5; i++) assert.equal((await anon('POST', 'auth/up-default/login/dave', { password: 'no' })).status, 400);
  assert.equal((await anon('POST', 'auth/up-default/login/dave', { password: 'dave-pw' })).status, 403);
});

test('password and policies endpoints', async () => {
  await ok(root('POST', 'auth/userpass/users/erin', { password: 'old-pw' }));
  await ok(root('POST', 'auth/userpass/users/erin/password', { password: 'new-pw' }));
  assert.equal((await anon('POST', 'auth/userpass/login/erin', { password: 'old-pw' })).status, 400);
  await ok(root('POST', 'auth/userpass/users/erin/policies', { token_policies: ['p1'] }));
  const auth = (await ok(anon('POST', 'auth/userpass/login/erin', { password: 'new-pw' }), 200)).auth;
  assert.deepEqual(auth.policies, ['default', 'p1']);
  const missing = await root('POST', 'auth/userpass/users/nobody/password', { password: 'x' });
  assert.deepEqual([missing.status, missing.body.errors], [400, ['username does not exist']]);
  assert.equal((await root('POST', 'auth/userpass/users/erin/password', { password: '' })).status, 400);
});

test('token_* settings: bound CIDRs, num_uses, no_default_policy, period, explicit max; root is never issued', async () => {
  await ok(root('POST', 'auth/userpass/users/far', { password: 'pw', token_bound_cidrs: '10.0.0.0/8' }));
  assert.deepEqual((await anon('POST', 'auth/userpass/login/far', { password: 'pw' })).body, { errors: ['permission denied'] });

  await ok(root('POST', 'auth/userpass/users/near', { password: 'pw', token_bound_cidrs: ['127.0.0.0/8', '::1/128'], token_num_uses: 2, token_no_default_policy: true, token_policies: 'p1' }));
  const limited = (await ok(anon('POST', 'auth/userpass/login/near', { password: 'pw' }), 200)).auth;
  assert.deepEqual([limited.num_uses, limited.policies], [2, ['p1']]);
  // Without the default policy the token cannot even look itself up: root looks at it.
  assert.equal((await as(limited.client_token)('GET', 'auth/token/lookup-self')).status, 403);
  const look = await ok(root('POST', 'auth/token/lookup', { token: limited.client_token }), 200);
  assert.deepEqual(look.data.bound_cidrs, ['127.0.0.0/8', '::1/128']);

  await ok(root('POST', 'auth/userpass/users/per', { password: 'pw', token_period: '30m', token_explicit_max_ttl: '1h' }));
  const periodic = (await ok(anon('POST', 'auth/userpass/login/per', { password: 'pw' }), 200)).auth;
  assert.equal(periodic.lease_duration, 1800);
  const lookup = await ok(as(periodic.client_token)('GET', 'auth/token/lookup-self'), 200);
  assert.deepEqual([lookup.data.period, lookup.data.explicit_max_ttl], [1800, 3600]);

  await ok(root('POST', 'auth/userpass/users/rooty', { password: 'pw', token_policies: 'root' }));
  const r = await anon('POST', 'auth/userpass/login/rooty', { password: 'pw' });
  assert.deepEqual([r.status, r.body.errors], [400, ['auth methods cannot create root tokens']]);
});

test('token type: the mount\'s token_type fills in "default"; service/batch on the mount force it', async () => {
  await ok(root('POST', 'sys/auth/up-batch', { type: 'userpass', config: { token_type: 'default-batch', default_lease_ttl: '20m' } }));
  await ok(root('POST', 'auth/up-batch/users/bat', { password: 'pw' }));
  await ok(root('POST', 'auth/up-batch/users/svc', { password: 'pw', token_type: 'service' }));
  const bat = (await ok(anon('POST', 'auth/up-batch/login/bat', { password: 'pw' }), 200)).auth;
  assert.match(bat.client_token, /^cfb\./);
  assert.deepEqual([bat.token_type, bat.renewable, bat.accessor, bat.lease_duration], ['batch', false, '', 1200]);
  await ok(as(bat.client_token)('GET', 'auth/token/lookup-self'), 200);
  assert.equal((await ok(anon('POST', 'auth/up-batch/login/svc', { password: 'pw' }), 200)).auth.token_type, 'service');
  await ok(root('POST', 'sys/auth/up-batch/tune', { token_type: 'batch' }));
  assert.equal((await ok(anon('POST', 'auth/up-batch/login/svc', { password: 'pw' }), 200)).auth.token_type, 'batch');
});

test('a deleted user cannot log in, and looks like any unknown user', async () => {
  await ok(root('POST', 'auth/userpass/users/gone', { password: 'pw' }));
  await ok(root('DELETE', 'auth/userpass/users/gone'));
  assert.deepEqual((await anon('POST', 'auth/userpass/login/gone', { password: 'pw' })).body, { errors: ['invalid username or password'] });
});
