import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PrefixView } from '../../src/storage/view.js';
import { startDevServer } from '../helpers/server.js';

const s = await startDevServer();

type Auth = { client_token: string; accessor: string; policies: string[]; orphan: boolean; lease_duration: number; renewable: boolean; token_type: string; num_uses: number };
type Res = { status: number; body: any };

const as = (token: string) => (method: string, path: string, body?: unknown): Promise<Res> => s.call(method, path, body, { 'X-Vault-Token': token });
const root = as(s.rootToken);

async function mint(body: Record<string, unknown>, token = s.rootToken, path = 'auth/token/create'): Promise<Auth> {
  const r = await as(token)('POST', path, body);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.auth as Auth;
}

async function refused(token: string): Promise<void> {
  const r = await as(token)('GET', 'auth/token/lookup-self');
  assert.equal(r.status, 403, JSON.stringify(r.body));
}

async function errorOf(r: Res, status: number, text: string | RegExp): Promise<void> {
  assert.equal(r.status, status, JSON.stringify(r.body));
  const message = String(r.body.errors?.[0] ?? '');
  if (typeof text === 'string') assert.equal(message, text);
  else assert.match(message, text);
}

const POLICIES: Record<string, string> = {
  // May create and manage tokens, but has no sudo anywhere.
  creator: 'path "auth/token/*" { capabilities = ["create", "read", "update", "delete", "list"] }',
  sudoer: 'path "auth/token/*" { capabilities = ["create", "read", "update", "delete", "list", "sudo"] }',
  'p-a': 'path "secret/data/a" { capabilities = ["read"] }',
  'p-b': 'path "secret/data/b" { capabilities = ["read"] }',
};
for (const [name, text] of Object.entries(POLICIES)) {
  const r = await root('PUT', `sys/policy/${name}`, { policy: text });
  assert.ok(r.status === 200 || r.status === 204, JSON.stringify(r.body));
}
const creator = await mint({ policies: ['creator', 'p-a'] });
const sudoer = await mint({ policies: ['sudoer'] });

test('create: the auth block has exactly Vault\'s fields and values', async () => {
  const r = await root('POST', 'auth/token/create', { policies: 'p-a', meta: { app: 'web' }, ttl: '1h', display_name: 'my app' });
  assert.equal(r.status, 200);
  assert.equal(r.body.data, null);
  assert.equal(r.body.lease_duration, 0);
  const auth = r.body.auth;
  assert.deepEqual(Object.keys(auth).sort(), ['accessor', 'client_token', 'entity_id', 'lease_duration', 'metadata', 'mfa_requirement', 'num_uses', 'orphan', 'policies', 'renewable', 'token_policies', 'token_type'].sort());
  assert.match(auth.client_token, /^cfs\.[0-9A-Za-z]{24}$/);
  assert.match(auth.accessor, /^[0-9A-Za-z]{24}$/);
  assert.deepEqual(auth.policies, ['default', 'p-a']);
  assert.deepEqual(auth.token_policies, ['default', 'p-a']);
  assert.deepEqual(auth.metadata, { app: 'web' });
  assert.equal(auth.lease_duration, 3600);
  assert.equal(auth.renewable, true);
  assert.equal(auth.entity_id, '');
  assert.equal(auth.token_type, 'service');
  assert.equal(auth.orphan, false);
  assert.equal(auth.mfa_requirement, null);
  assert.equal(auth.num_uses, 0);

  const look = await as(auth.client_token)('GET', 'auth/token/lookup-self');
  assert.equal(look.status, 200);
  assert.equal(look.body.data.display_name, 'token-my-app');
  assert.equal(look.body.data.path, 'auth/token/create');
});

test('JSON null means "not set", as hvac sends every unset parameter', async () => {
  const t = await mint({ id: null, policies: ['p-a'], meta: null, no_parent: false, display_name: null, num_uses: null, no_default_policy: false, renewable: null, ttl: null, explicit_max_ttl: null, period: null, type: null });
  assert.deepEqual(t.policies, ['default', 'p-a']);
  assert.equal(t.lease_duration, 2_764_800);
  const r = await root('POST', 'auth/token/renew', { token: t.client_token, increment: null });
  assert.equal(r.status, 200, JSON.stringify(r.body));
});

test('TTL defaults: 32 days for a child of root, capped at the system max with a warning, 0 for a root child', async () => {
  assert.equal((await mint({ policies: ['p-a'] })).lease_duration, 2_764_800);
  const r = await root('POST', 'auth/token/create', { policies: ['p-a'], ttl: '1000h' });
  assert.equal(r.body.auth.lease_duration, 2_764_800);
  assert.match(r.body.warnings[0], /capped/);
  const rootChild = await mint({});
  assert.deepEqual(rootChild.policies, ['root']);
  assert.equal(rootChild.lease_duration, 0);
  assert.equal(rootChild.renewable, false);
  // A child of a non-root token gets the default TTL too.
  assert.equal((await mint({ policies: ['p-a'] }, creator.client_token)).lease_duration, 2_764_800);
});

test('lookup-self, lookup (POST and GET) and lookup-accessor have Vault\'s data fields', async () => {
  const t = await mint({ policies: ['p-a'], ttl: '30m', meta: ['team=ops'] });
  const self = await as(t.client_token)('GET', 'auth/token/lookup-self');
  assert.equal(self.status, 200);
  const d = self.body.data;
  for (const key of ['accessor', 'creation_time', 'creation_ttl', 'display_name', 'entity_id', 'expire_time', 'explicit_max_ttl', 'id', 'issue_time', 'meta', 'num_uses', 'orphan', 'path', 'policies', 'renewable', 'ttl', 'type']) {
    assert.ok(key in d, `lookup-self lacks ${key}`);
  }
  assert.equal(d.id, t.client_token);
  assert.equal(d.accessor, t.accessor);
  assert.equal(d.creation_ttl, 1800);
  assert.ok(d.ttl > 1790 && d.ttl <= 1800);
  assert.ok(Math.abs(Date.parse(d.expire_time) - (Date.now() + 1800_000)) < 5000);
  assert.ok(!Number.isNaN(Date.parse(d.issue_time)));
  assert.deepEqual(d.meta, { team: 'ops' });
  assert.equal(d.type, 'service');
  assert.equal(d.renewable, true);

  const byPost = await root('POST', 'auth/token/lookup', { token: t.client_token });
  assert.equal(byPost.body.data.id, t.client_token);
  // GET lookup without a token is lookup-self (on the lookup path's ACL).
  const byGetSelf = await as(creator.client_token)('GET', 'auth/token/lookup');
  assert.equal(byGetSelf.body.data.id, creator.client_token);
  const byAccessor = await root('POST', 'auth/token/lookup-accessor', { accessor: t.accessor });
  assert.equal(byAccessor.status, 200);
  assert.equal(byAccessor.body.data.id, '');
  assert.equal(byAccessor.body.data.accessor, t.accessor);

  await errorOf(await root('POST', 'auth/token/lookup', { token: 'cfs.nosuchtokennosuchtoken00' }), 403, 'bad token');
  await errorOf(await root('POST', 'auth/token/lookup-accessor', { accessor: 'nosuchaccessor' }), 400, 'invalid accessor');
  await errorOf(await root('POST', 'auth/token/lookup-accessor', {}), 400, 'missing accessor');

  const rootSelf = await root('GET', 'auth/token/lookup-self');
  assert.equal(rootSelf.body.data.expire_time, null);
  assert.equal(rootSelf.body.data.ttl, 0);
  assert.equal(rootSelf.body.data.orphan, true);
  assert.equal(rootSelf.body.data.path, 'auth/token/root');
});

test('subset rule: a non-sudo parent can only hand out policies it has', async () => {
  const c = as(creator.client_token);
  await errorOf(await c('POST', 'auth/token/create', { policies: ['p-b'] }), 400, 'child policies must be subset of parent');
  await errorOf(await c('POST', 'auth/token/create', { policies: ['root'] }), 400, 'child policies must be subset of parent');
  assert.deepEqual((await mint({ policies: ['p-a'] }, creator.client_token)).policies, ['default', 'p-a']);
  assert.deepEqual((await mint({}, creator.client_token)).policies, ['creator', 'default', 'p-a']);
  assert.deepEqual((await mint({ policies: ['p-a'], no_default_policy: true }, creator.client_token)).policies, ['p-a']);
  // sudo on the path lifts the subset rule, but only root makes root.
  assert.deepEqual((await mint({ policies: ['p-b'] }, sudoer.client_token)).policies, ['default', 'p-b']);
  await errorOf(await as(sudoer.client_token)('POST', 'auth/token/create', { policies: ['root'] }), 400, 'root tokens may not be created without parent token being root');
  await errorOf(await root('POST', 'auth/token/create', { policies: ['response-wrapping'] }), 400, 'cannot assign policy "response-wrapping"');
});

test('sudo-only fields: id, no_parent and period need root or sudo', async () => {
  const c = as(creator.client_token);
  await errorOf(await c('POST', 'auth/token/create', { id: 'chosen' }), 400, 'root or sudo privileges required to specify token id');
  await errorOf(await c('POST', 'auth/token/create', { no_parent: true }), 400, 'root or sudo privileges required to create orphan token');
  await errorOf(await c('POST', 'auth/token/create', { period: '1h' }), 400, 'root or sudo privileges required to create periodic token');
  const orphan = await mint({ policies: ['p-a'], no_parent: true }, sudoer.client_token);
  assert.equal(orphan.orphan, true);
  // create-orphan is ACL'd by its own path: no sudo needed.
  assert.equal((await mint({ policies: ['p-a'] }, creator.client_token, 'auth/token/create-orphan')).orphan, true);
});

test('custom ids: root only, no cfs./cfb. prefix, no dot, no duplicate', async () => {
  const t = await mint({ id: 'my-custom-token', policies: ['p-a'] });
  assert.equal(t.client_token, 'my-custom-token');
  assert.equal((await as('my-custom-token')('GET', 'auth/token/lookup-self')).status, 200);
  await errorOf(await root('POST', 'auth/token/create', { id: 'my-custom-token' }), 400, 'cannot create a token with a duplicate ID');
  await errorOf(await root('POST', 'auth/token/create', { id: 'cfs.abcdef' }), 400, "custom token ID cannot have the 'cfs.' prefix");
  await errorOf(await root('POST', 'auth/token/create', { id: 'cfb.abcdef' }), 400, "custom token ID cannot have the 'cfb.' prefix");
  await errorOf(await root('POST', 'auth/token/create', { id: 'a.b' }), 400, "custom token ID cannot have a '.' in the value");
  assert.equal((await mint({ id: 'by-sudoer' }, sudoer.client_token)).client_token, 'by-sudoer');
});

test('batch tokens: work, are never stored, cannot renew, revoke or make children, die with their parent', async () => {
  const accessorsBefore = (await root('LIST', 'auth/token/accessors')).body.data.keys.length;
  const parent = await mint({ policies: ['creator', 'p-a'] });
  const b = await mint({ type: 'batch', policies: ['p-a'], ttl: '10m' }, parent.client_token);
  assert.match(b.client_token, /^cfb\.[A-Za-z0-9_-]+$/);
  assert.equal(b.accessor, '');
  assert.equal(b.token_type, 'batch');
  assert.equal(b.renewable, false);
  assert.equal(b.lease_duration, 600);
  assert.equal((await root('LIST', 'auth/token/accessors')).body.data.keys.length, accessorsBefore + 1); // the parent only

  const bt = as(b.client_token);
  const self = await bt('GET', 'auth/token/lookup-self');
  assert.equal(self.status, 200);
  assert.equal(self.body.data.type, 'batch');
  assert.equal(self.body.data.orphan, false);
  assert.equal(self.body.data.id, b.client_token);
  await errorOf(await root('POST', 'auth/token/renew', { token: b.client_token }), 400, 'batch tokens cannot be renewed');
  await errorOf(await root('POST', 'auth/token/revoke', { token: b.client_token }), 400, 'batch tokens cannot be revoked');
  const maker = await mint({ type: 'batch', policies: ['creator'], ttl: '10m' });
  await errorOf(await as(maker.client_token)('POST', 'auth/token/create', { policies: ['creator'] }), 400, 'batch tokens cannot create more tokens');
  await errorOf(await root('POST', 'auth/token/create', { type: 'batch', num_uses: 2 }), 400, 'batch tokens cannot have "num_uses" set');
  await errorOf(await root('POST', 'auth/token/create', { type: 'batch', policies: ['root'] }), 400, 'batch tokens cannot be root tokens');

  // A flipped character is not a token.
  const last = b.client_token.at(-2) === 'A' ? 'B' : 'A';
  await refused(`${b.client_token.slice(0, -2)}${last}${b.client_token.at(-1)}`);

  assert.equal((await root('POST', 'auth/token/revoke', { token: parent.client_token })).status, 204);
  await refused(b.client_token);
});

test('revoke takes the whole tree; revoke-orphan keeps the children as orphans', async () => {
  const a = await mint({ policies: ['creator', 'p-a'] });
  const b = await mint({ policies: ['creator'] }, a.client_token);
  const c = await mint({ policies: ['creator'] }, b.client_token);
  assert.equal((await root('POST', 'auth/token/revoke', { token: a.client_token })).status, 204);
  for (const t of [a, b, c]) await refused(t.client_token);
  await errorOf(await root('POST', 'auth/token/lookup-accessor', { accessor: c.accessor }), 400, 'invalid accessor');

  const p = await mint({ policies: ['creator', 'p-a'] });
  const k = await mint({ policies: ['p-a'] }, p.client_token);
  const g = await mint({ policies: ['creator'] }, p.client_token);
  const gg = await mint({ policies: ['creator'] }, g.client_token);
  await errorOf(await as(creator.client_token)('POST', 'auth/token/revoke-orphan', { token: p.client_token }), 400, 'root or sudo privileges required to revoke and orphan');
  assert.equal((await as(sudoer.client_token)('POST', 'auth/token/revoke-orphan', { token: p.client_token })).status, 204);
  await refused(p.client_token);
  const kSelf = await as(k.client_token)('GET', 'auth/token/lookup-self');
  assert.equal(kSelf.status, 200);
  assert.equal(kSelf.body.data.orphan, true);
  assert.equal((await as(gg.client_token)('GET', 'auth/token/lookup-self')).body.data.orphan, false);
  // The orphaned subtree is still a tree.
  assert.equal((await root('POST', 'auth/token/revoke', { token: g.client_token })).status, 204);
  await refused(gg.client_token);
});

test('revoke-self, revoke-accessor, and revoking an unknown token', async () => {
  const t = await mint({ policies: ['creator'] });
  const child = await mint({}, t.client_token);
  assert.equal((await as(t.client_token)('POST', 'auth/token/revoke-self')).status, 204);
  await refused(t.client_token);
  await refused(child.client_token);

  const u = await mint({ policies: ['p-a'] });
  assert.equal((await root('POST', 'auth/token/revoke-accessor', { accessor: u.accessor })).status, 204);
  await refused(u.client_token);
  const again = await root('POST', 'auth/token/revoke-accessor', { accessor: u.accessor });
  assert.equal(again.status, 200);
  assert.deepEqual(again.body.warnings, ['No token found with this accessor']);
  assert.equal((await root('POST', 'auth/token/revoke', { token: 'cfs.unknownunknownunknown00' })).status, 204);
  await errorOf(await root('POST', 'auth/token/revoke', {}), 400, 'missing token ID');
});

test('num_uses: exactly N requests succeed, and a limited token makes no children', async () => {
  const t = await mint({ policies: ['p-a'], num_uses: 3 });
  assert.equal(t.num_uses, 3);
  const uses: number[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await as(t.client_token)('GET', 'auth/token/lookup-self');
    assert.equal(r.status, 200);
    uses.push(r.body.data.num_uses);
  }
  assert.deepEqual(uses, [2, 1, 0]);
  await refused(t.client_token);
  await errorOf(await root('POST', 'auth/token/lookup', { token: t.client_token }), 403, 'bad token');

  const limited = await mint({ policies: ['creator'], num_uses: 5 });
  await errorOf(await as(limited.client_token)('POST', 'auth/token/create', {}), 400, 'restricted use token cannot generate child tokens');
  await errorOf(await root('POST', 'auth/token/create', { num_uses: -1 }), 400, 'number of uses cannot be negative');
});

test('renew: by increment, never past explicit_max_ttl or the system max, periodic tokens to their period', async () => {
  const t = await mint({ policies: ['p-a'], ttl: '60s', explicit_max_ttl: '100s' });
  let r = await as(t.client_token)('POST', 'auth/token/renew-self', { increment: '30s' });
  assert.equal(r.status, 200);
  assert.equal(r.body.auth.lease_duration, 30);
  assert.equal(r.body.auth.client_token, t.client_token);
  r = await root('POST', 'auth/token/renew', { token: t.client_token, increment: 1000 });
  assert.ok(r.body.auth.lease_duration <= 100 && r.body.auth.lease_duration >= 95, String(r.body.auth.lease_duration));
  assert.match(r.body.warnings[0], /capped/);
  const look = await root('POST', 'auth/token/lookup', { token: t.client_token });
  assert.ok(Date.parse(look.body.data.expire_time) <= Date.parse(look.body.data.issue_time) + 100_000);
  assert.equal(look.body.data.explicit_max_ttl, 100);
  assert.ok(look.body.data.last_renewal_time > 0);

  const long = await mint({ policies: ['p-a'], ttl: '1h' });
  r = await root('POST', 'auth/token/renew-accessor', { accessor: long.accessor, increment: '1000h' });
  assert.equal(r.status, 200);
  assert.equal(r.body.auth.client_token, '');
  assert.ok(r.body.auth.lease_duration <= 2_764_800 && r.body.auth.lease_duration >= 2_764_790);

  const periodic = await mint({ policies: ['p-a'], period: '2m', ttl: '10s' });
  assert.equal(periodic.lease_duration, 120);
  r = await as(periodic.client_token)('POST', 'auth/token/renew-self', { increment: '1h' });
  assert.equal(r.body.auth.lease_duration, 120);
  assert.equal((await as(periodic.client_token)('GET', 'auth/token/lookup-self')).body.data.period, 120);

  const fixed = await mint({ policies: ['p-a'], renewable: false });
  assert.equal(fixed.renewable, false);
  await errorOf(await as(fixed.client_token)('POST', 'auth/token/renew-self', {}), 400, 'lease is not renewable');
  await errorOf(await root('POST', 'auth/token/renew-self', {}), 400, 'lease is not renewable');
  await errorOf(await root('POST', 'auth/token/renew', { token: 'cfs.unknownunknownunknown00' }), 400, 'token not found');
});

test('roles: CRUD, LIST, and create/:role with allowed and disallowed policies, orphan, suffix, period', async () => {
  let r = await root('POST', 'auth/token/roles/app', {
    allowed_policies: 'p-a,p-b', orphan: true, path_suffix: 'v1', token_period: '5m', token_explicit_max_ttl: '1h', renewable: true,
  });
  assert.equal(r.status, 204, JSON.stringify(r.body));
  r = await root('GET', 'auth/token/roles/app');
  assert.equal(r.status, 200);
  assert.equal(r.body.data.name, 'app');
  assert.deepEqual(r.body.data.allowed_policies, ['p-a', 'p-b']);
  assert.equal(r.body.data.orphan, true);
  assert.equal(r.body.data.path_suffix, 'v1');
  assert.equal(r.body.data.token_period, 300);
  assert.equal(r.body.data.token_explicit_max_ttl, 3600);
  assert.equal(r.body.data.token_type, 'default-service');
  assert.equal(r.body.data.renewable, true);

  // The role's lists replace the subset rule: creator has no p-b, yet may hand it out here.
  const viaRole = await mint({ policies: ['p-b'] }, creator.client_token, 'auth/token/create/app');
  assert.deepEqual(viaRole.policies, ['default', 'p-b']);
  assert.equal(viaRole.orphan, true);
  assert.equal(viaRole.lease_duration, 300);
  const look = (await root('POST', 'auth/token/lookup', { token: viaRole.client_token })).body.data;
  assert.equal(look.path, 'auth/token/create/app/v1');
  assert.equal(look.role, 'app');
  assert.equal(look.period, 300);
  await errorOf(await as(creator.client_token)('POST', 'auth/token/create/app', { policies: ['creator'] }), 400, /must be subset of the role's allowed policies/);

  assert.equal((await root('POST', 'auth/token/roles/deny-a', { disallowed_policies: ['p-a'] })).status, 204);
  await errorOf(await as(creator.client_token)('POST', 'auth/token/create/deny-a', {}), 400, 'token policy "p-a" is disallowed by this role');
  await errorOf(await root('POST', 'auth/token/roles/bad', { token_type: 'batch' }), 400, "'token_type' cannot be 'batch' when role is set to generate non-orphan tokens");
  await errorOf(await root('POST', 'auth/token/roles/bad', { token_type: 'nope' }), 400, /invalid 'token_type' value/);
  assert.equal((await root('POST', 'auth/token/roles/batchy', { token_type: 'batch', orphan: true, renewable: false, allowed_policies: 'p-a' })).status, 204);
  assert.equal((await mint({}, creator.client_token, 'auth/token/create/batchy')).token_type, 'batch');
  await errorOf(await root('POST', 'auth/token/create/nosuch', {}), 400, 'unknown role nosuch');

  const list = await root('LIST', 'auth/token/roles');
  assert.deepEqual(list.body.data.keys, ['app', 'batchy', 'deny-a']);
  // An update changes only what it sends.
  assert.equal((await root('POST', 'auth/token/roles/app', { path_suffix: 'v2' })).status, 204);
  assert.deepEqual((await root('GET', 'auth/token/roles/app')).body.data.allowed_policies, ['p-a', 'p-b']);
  assert.equal((await root('DELETE', 'auth/token/roles/app')).status, 204);
  assert.equal((await root('GET', 'auth/token/roles/app')).status, 404);
});

test('bound CIDRs from a role: refused from anywhere else, accepted from inside', async () => {
  assert.equal((await root('POST', 'auth/token/roles/far', { token_bound_cidrs: ['10.0.0.0/8'], allowed_policies: 'p-a' })).status, 204);
  assert.equal((await root('POST', 'auth/token/roles/near', { token_bound_cidrs: '127.0.0.1/32,::1' , allowed_policies: 'p-a' })).status, 204);
  const far = await mint({}, s.rootToken, 'auth/token/create/far');
  const near = await mint({}, s.rootToken, 'auth/token/create/near');
  await refused(far.client_token);
  const ok = await as(near.client_token)('GET', 'auth/token/lookup-self');
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.body.data.bound_cidrs, ['127.0.0.1/32', '::1/128']);
  await errorOf(await root('POST', 'auth/token/roles/worse', { token_bound_cidrs: 'not-a-cidr' }), 400, /invalid CIDR/);
});

test('LIST accessors needs sudo; tidy answers 202', async () => {
  const t = await mint({ policies: ['p-a'] });
  const r = await root('LIST', 'auth/token/accessors');
  assert.equal(r.status, 200);
  assert.ok(r.body.data.keys.includes(t.accessor));
  assert.equal((await as(creator.client_token)('LIST', 'auth/token/accessors')).status, 403);
  assert.equal((await as(sudoer.client_token)('GET', 'auth/token/accessors?list=true')).status, 200);
  const tidy = await root('POST', 'auth/token/tidy');
  assert.equal(tidy.status, 202);
  assert.match(tidy.body.warnings[0], /Tidy operation/);
});

test('tidy repairs a revocation cut short: the children die and dangling accessors go', async () => {
  const p = await mint({ policies: ['creator'] });
  const c = await mint({ policies: ['creator'] }, p.client_token);
  // Simulate a crash between deleting the parent's record and the rest of its revocation.
  const core = s.server.core;
  await new PrefixView(core.barrier, 'sys/token/').delete(`id/${core.tokens.hash(p.client_token)}`);
  await refused(p.client_token);
  await refused(c.client_token);
  let keys = (await root('LIST', 'auth/token/accessors')).body.data.keys as string[];
  assert.ok(keys.includes(p.accessor) && keys.includes(c.accessor));
  assert.equal((await root('POST', 'auth/token/tidy')).status, 202);
  keys = (await root('LIST', 'auth/token/accessors')).body.data.keys as string[];
  assert.ok(!keys.includes(p.accessor) && !keys.includes(c.accessor));
  assert.ok(keys.includes(creator.accessor));
});

test('a hot token (decoded once, then served from the read cache) sees every change on the very next request', async () => {
  const hot = await mint({ policies: ['p-a'], ttl: '1h', num_uses: 0 });
  const child = await mint({ policies: ['p-a'], ttl: '1h' });
  for (let i = 0; i < 20; i++) assert.equal((await as(hot.client_token)('GET', 'auth/token/lookup-self')).status, 200);
  // A renewal rewrites the entry: the next lookup shows the new TTL, not the cached one.
  const before = (await as(hot.client_token)('GET', 'auth/token/lookup-self')).body.data.ttl as number;
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal((await root('POST', 'auth/token/renew', { token: hot.client_token, increment: '2h' })).status, 200);
  const after = (await as(hot.client_token)('GET', 'auth/token/lookup-self')).body.data.ttl as number;
  assert.ok(after > before, `ttl after renew ${after} > before ${before}`);
  // Revocation: refused on the very next request, however often it was served before.
  assert.equal((await root('POST', 'auth/token/revoke', { token: hot.client_token })).status, 204);
  await refused(hot.client_token);
  assert.equal((await as(child.client_token)('GET', 'auth/token/lookup-self')).status, 200, 'an unrelated token is untouched');
});
