/**
 * Policies copied from the Vault/OpenBao policies concept page (docs/concepts/policies.mdx),
 * in HCL and JSON, behave as the page says.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileAcl } from '../../src/core/acl/acl.js';
import { DEFAULT_POLICY } from '../../src/core/acl/builtin.js';
import { parsePolicy } from '../../src/core/acl/parse.js';
import type { Acl, AclRequest } from '../../src/core/acl/types.js';
import type { Operation } from '../../src/core/request.js';
import { CofferError } from '../../src/util/errors.js';

const acl = (...texts: string[]): Acl => compileAcl(texts.map(parsePolicy));
const req = (data: Record<string, unknown> = {}, wrapTtl?: number, skipParameterChecks = false): AclRequest => ({ data, wrapTtl, skipParameterChecks });
const can = (a: Acl, op: Operation, path: string, data: Record<string, unknown> = {}, wrapTtl?: number): boolean => a.check(path, op, req(data, wrapTtl)).allowed;

const DETAILED_HCL = `
# This section grants all access on "secret/*". further restrictions can be
# applied to this broad policy, as shown below.
path "secret/*" {
  capabilities = ["create", "read", "update", "patch", "delete", "list"]
}

# Even though we allowed secret/*, this line explicitly denies
# secret/super-secret. this takes precedence.
path "secret/super-secret" {
  capabilities = ["deny"]
}

# Policies can also specify allowed, disallowed, and required parameters. here
# the key "secret/restricted" can only contain "foo" (any value) and "bar" (one
# of "zip" or "zap").
path "secret/restricted" {
  capabilities = ["create"]
  allowed_parameters = {
    "foo" = []
    "bar" = ["zip", "zap"]
  }
}
`;

const DETAILED_JSON = JSON.stringify({
  path: {
    'secret/*': { capabilities: ['create', 'read', 'update', 'patch', 'delete', 'list'] },
    'secret/super-secret': { capabilities: ['deny'] },
    'secret/restricted': { capabilities: ['create'], allowed_parameters: { foo: [], bar: ['zip', 'zap'] } },
  },
}, null, 2);

test('the simple policy: read on secret/foo and nothing else', () => {
  const a = acl('path "secret/foo" {\n  capabilities = ["read"]\n}\n');
  assert.equal(can(a, 'read', 'secret/foo'), true);
  for (const op of ['create', 'update', 'patch', 'delete', 'list'] as const) assert.equal(can(a, op, 'secret/foo'), false, op);
  assert.equal(can(a, 'read', 'secret/food'), false);
  assert.equal(can(a, 'read', 'secret/foo/bar'), false);
  assert.equal(can(a, 'read', 'sys/mounts'), false, 'deny by default');
});

for (const [form, text] of [['HCL', DETAILED_HCL], ['JSON', DETAILED_JSON]] as const) {
  test(`the detailed policy (${form}): secret/* all, super-secret denied, restricted parameters`, () => {
    const a = acl(text);
    for (const op of ['create', 'read', 'update', 'patch', 'delete', 'list'] as const) assert.equal(can(a, op, 'secret/anything'), true, op);
    assert.equal(can(a, 'list', 'secret/'), true);
    for (const op of ['create', 'read', 'update', 'delete', 'list'] as const) assert.equal(can(a, op, 'secret/super-secret'), false, op);
    assert.deepEqual(a.capabilities('secret/super-secret'), ['deny']);
    assert.equal(can(a, 'create', 'secret/restricted', { foo: 'anything', bar: 'zip' }), true);
    assert.equal(can(a, 'create', 'secret/restricted', { bar: 'zap' }), true);
    assert.equal(can(a, 'create', 'secret/restricted', { bar: 'zop' }), false, 'bar only zip or zap');
    assert.equal(can(a, 'create', 'secret/restricted', { baz: '1' }), false, 'other keys refused');
    assert.equal(can(a, 'read', 'secret/restricted'), false, 'exact rule wins over secret/*: create only');
  });
}

test('globs: exact, "dir/*" and "zip-*" prefixes', () => {
  const a = acl(`
# Permit reading only "secret/foo". an attached token cannot read "secret/food"
# or "secret/foo/bar".
path "secret/foo" {
  capabilities = ["read"]
}

# Permit reading everything under "secret/bar". an attached token could read
# "secret/bar/zip", "secret/bar/zip/zap", but not "secret/bars/zip".
path "secret/bar/*" {
  capabilities = ["read"]
}

# Permit reading everything prefixed with "zip-". an attached token could read
# "secret/zip-zap" or "secret/zip-zap/zong", but not "secret/zip/zap
path "secret/zip-*" {
  capabilities = ["read"]
}
`);
  assert.equal(can(a, 'read', 'secret/foo'), true);
  assert.equal(can(a, 'read', 'secret/food'), false);
  assert.equal(can(a, 'read', 'secret/foo/bar'), false);
  assert.equal(can(a, 'read', 'secret/bar/zip'), true);
  assert.equal(can(a, 'read', 'secret/bar/zip/zap'), true);
  assert.equal(can(a, 'read', 'secret/bars/zip'), false);
  assert.equal(can(a, 'read', 'secret/zip-zap'), true);
  assert.equal(can(a, 'read', 'secret/zip-zap/zong'), true);
  assert.equal(can(a, 'read', 'secret/zip/zap'), false);
});

test('"+" matches exactly one segment', () => {
  const a = acl(`
# Permit reading the "teamb" path under any top-level path under secret/
path "secret/+/teamb" {
  capabilities = ["read"]
}

# Permit reading secret/foo/bar/teamb, secret/bar/foo/teamb, etc.
path "secret/+/+/teamb" {
  capabilities = ["read"]
}
`);
  assert.equal(can(a, 'read', 'secret/foo/teamb'), true);
  assert.equal(can(a, 'read', 'secret/foo/bar/teamb'), true);
  assert.equal(can(a, 'read', 'secret/bar/foo/teamb'), true);
  assert.equal(can(a, 'read', 'secret/teamb'), false);
  assert.equal(can(a, 'read', 'secret/a/b/c/teamb'), false);
  assert.equal(can(a, 'read', 'secret/foo/teamb/x'), false);
});

test('priority: the documented example and the five rules, one at a time', () => {
  // "secret/*" and "secret/+/+/foo/*": same first wildcard, both globs, the latter has two '+': it loses.
  const doc = acl('path "secret/*" { capabilities = ["read"] }', 'path "secret/+/+/foo/*" { capabilities = ["deny"] }');
  assert.equal(can(doc, 'read', 'secret/a/b/foo/c'), true);

  const winner = (rules: Record<string, string>, path: string): string => {
    const text = Object.entries(rules).map(([p, cap]) => `path "${p}" { capabilities = ["${cap}"] }`).join('\n');
    return acl(text).capabilities(path).join(',');
  };
  // 1. the first wildcard later wins
  assert.equal(winner({ 'foo/a*': 'read', 'foo/+': 'update' }, 'foo/ab'), 'read');
  assert.equal(winner({ 'foo/bar/+/baz': 'read', 'foo/+/bar/baz': 'update' }, 'foo/bar/bar/baz'), 'read');
  // 2. not ending in '*' wins
  assert.equal(winner({ 'foo/+/bar': 'read', 'foo/+/ba*': 'update' }, 'foo/x/bar'), 'read');
  assert.equal(winner({ 'foo/+': 'read', 'foo/*': 'update' }, 'foo/x'), 'read');
  // 3. fewer '+' wins
  assert.equal(winner({ 'foo/bar/+/baz': 'read', 'foo/+/+/baz': 'update' }, 'foo/bar/x/baz'), 'read');
  // 4. longer wins
  assert.equal(winner({ 'foo/+/bar/ba*': 'read', 'foo/+/bar/b*': 'update' }, 'foo/x/bar/baz'), 'read');
  assert.equal(winner({ 'secret/fo*': 'update', 'secret/foo*': 'read' }, 'secret/food'), 'read');
  // an exact path beats every glob
  assert.equal(winner({ 'secret/*': 'update', 'secret/+': 'list', 'secret/foo': 'read' }, 'secret/foo'), 'read');
});

test('across policies: the same path unites and deny wins; different paths: only the best applies', () => {
  const union = acl('path "secret/app" { capabilities = ["read"] }', 'path "secret/app" { capabilities = ["update", "sudo"] }');
  assert.deepEqual(union.capabilities('secret/app'), ['read', 'sudo', 'update']);
  const check = union.check('secret/app', 'update', req());
  assert.deepEqual([check.allowed, check.sudo], [true, true]);

  const denied = acl('path "secret/app" { capabilities = ["read", "list"] }', 'path "secret/app" { capabilities = ["deny"] }');
  assert.equal(can(denied, 'read', 'secret/app'), false);
  assert.deepEqual(denied.capabilities('secret/app'), ['deny']);

  const best = acl('path "secret/*" { capabilities = ["read"] }', 'path "secret/app" { capabilities = ["update"] }');
  assert.equal(can(best, 'read', 'secret/app'), false, 'the exact rule is the only one that applies');
  assert.equal(can(best, 'update', 'secret/app'), true);
  assert.equal(can(best, 'read', 'secret/other'), true);

  const stanzas = acl('path "a" { capabilities = ["read"] }\npath "a" { capabilities = ["list"] }');
  assert.deepEqual(stanzas.capabilities('a'), ['list', 'read'], 'two stanzas in one policy merge too');
});

test('required_parameters', () => {
  const a = acl(`
# This requires the user to create "secret/profile" with a parameter/key named
# "name" and "id" where kv v1 is enabled at "secret/".
path "secret/profile" {
  capabilities = ["create"]
  required_parameters = ["name", "id"]
}
`);
  assert.equal(can(a, 'create', 'secret/profile', { name: 'n', id: '1' }), true);
  assert.equal(can(a, 'create', 'secret/profile', { name: 'n' }), false);
  assert.equal(can(a, 'create', 'secret/profile'), false);
  assert.equal(a.check('secret/profile', 'create', req({}, undefined, true)).allowed, true, 'skipped for KV v2');
});

test('allowed_parameters: [] is any value, a list restricts, "*" lets other keys in', () => {
  const password = acl('path "auth/userpass/users/*" {\n capabilities = ["update"]\n allowed_parameters = {\n "password" = []\n }\n}');
  assert.equal(can(password, 'update', 'auth/userpass/users/bob', { password: 'x' }), true);
  assert.equal(can(password, 'update', 'auth/userpass/users/bob', { password: 'x', token_ttl: '1h' }), false);
  assert.equal(can(password, 'update', 'auth/userpass/users/bob', { PASSWORD: 'x' }), true, 'names compare lower-cased');

  const transit = acl('path "transit/keys/*" {\n capabilities = ["create", "update"]\n allowed_parameters = {\n "auto_rotate_period" = ["8h", "24h", "5d"]\n }\n}');
  assert.equal(can(transit, 'update', 'transit/keys/k', { auto_rotate_period: '24h' }), true);
  assert.equal(can(transit, 'update', 'transit/keys/k', { auto_rotate_period: '1h' }), false);

  const star = acl('path "secret/foo" {\n capabilities = ["create"]\n allowed_parameters = {\n "bar" = ["zip", "zap"]\n "*" = []\n }\n}');
  assert.equal(can(star, 'create', 'secret/foo', { bar: 'zip', other: 'anything' }), true);
  assert.equal(can(star, 'create', 'secret/foo', { bar: 'zop', other: 'anything' }), false);

  const glob = acl('path "secret/foo" {\n capabilities = ["create"]\n allowed_parameters = {\n "bar" = ["foo-*"]\n }\n}');
  assert.equal(can(glob, 'create', 'secret/foo', { bar: 'foo-1' }), true);
  assert.equal(can(glob, 'create', 'secret/foo', { bar: 'xfoo-1' }), false);
  const suffix = acl('path "p" { capabilities = ["update"]\n allowed_parameters = { "v" = ["*-prod", "*mid*"] } }');
  assert.equal(can(suffix, 'update', 'p', { v: 'db-prod' }), true);
  assert.equal(can(suffix, 'update', 'p', { v: 'amidst' }), true);
  assert.equal(can(suffix, 'update', 'p', { v: 'db-dev' }), false);
});

test('denied_parameters: [] denies the key, a list denies values, "*" denies any data', () => {
  const users = acl('path "auth/userpass/users/*" {\n capabilities = ["update"]\n denied_parameters = {\n "token_policies" = []\n "policies" = []\n }\n}');
  assert.equal(can(users, 'update', 'auth/userpass/users/bob', { password: 'x' }), true);
  assert.equal(can(users, 'update', 'auth/userpass/users/bob', { password: 'x', policies: 'admin' }), false);

  const roles = acl('path "auth/token/roles/*" {\n capabilities = ["create", "update"]\n denied_parameters = {\n "allowed_policies" = ["admin"]\n }\n}');
  assert.equal(can(roles, 'update', 'auth/token/roles/r', { allowed_policies: 'dev' }), true);
  assert.equal(can(roles, 'update', 'auth/token/roles/r', { allowed_policies: 'admin' }), false);

  const all = acl('path "transit/keys/*" {\n capabilities = ["create", "update"]\n denied_parameters = {\n "*" = []\n }\n}');
  assert.equal(can(all, 'update', 'transit/keys/k'), true, 'a request with no data is allowed');
  assert.equal(can(all, 'update', 'transit/keys/k', { type: 'rsa-2048' }), false);

  // The "default values" example: no_store cannot be false, and must be given.
  const noStore = acl('path "secret/foo" {\n capabilities = ["create"]\n denied_parameters = {\n "no_store" = [false, "false"]\n }\n}');
  assert.equal(can(noStore, 'create', 'secret/foo', { no_store: 'false', value: 'bar' }), false);
  assert.equal(can(noStore, 'create', 'secret/foo', { no_store: false, value: 'bar' }), false);
  assert.equal(can(noStore, 'create', 'secret/foo', { value: 'bar' }), true);
  const required = acl('path "secret/foo" {\n capabilities = ["create"]\n required_parameters = ["no_store"]\n denied_parameters = {\n "no_store" = [false, "false"]\n }\n}');
  assert.equal(can(required, 'create', 'secret/foo', { value: 'bar' }), false);
  assert.equal(can(required, 'create', 'secret/foo', { no_store: true, value: 'bar' }), true);

  // Only read, create, update and patch look at parameters.
  const del = acl('path "x" { capabilities = ["delete", "list"]\n denied_parameters = { "*" = [] } }');
  assert.equal(can(del, 'delete', 'x', { a: 1 }), true);
  assert.equal(can(del, 'list', 'x/', { a: 1 }), true);
});

test('parameter lists merge across policies: concatenated, [] wins, required unite', () => {
  const a = acl('path "p" { capabilities = ["update"]\n allowed_parameters = { "a" = ["1"] "b" = ["x"] }\n required_parameters = ["a"] }',
    'path "p" { capabilities = ["update"]\n allowed_parameters = { "a" = ["2"] "b" = [] }\n required_parameters = ["b"] }');
  assert.equal(can(a, 'update', 'p', { a: '1', b: 'anything' }), true);
  assert.equal(can(a, 'update', 'p', { a: '2', b: 'y' }), true);
  assert.equal(can(a, 'update', 'p', { a: '3', b: 'y' }), false);
  assert.equal(can(a, 'update', 'p', { a: '1' }), false, 'b is required by the second policy');
});

test('wrapping TTL bounds, and the lowest non-zero bound wins on merge', () => {
  const a = acl(`
# This effectively makes response wrapping mandatory for this path by setting min_wrapping_ttl to 1 second.
# This also sets this path's wrapped response maximum allowed TTL to 90 seconds.
path "auth/approle/role/my-role/secret-id" {
    capabilities = ["create", "update"]
    min_wrapping_ttl = "1s"
    max_wrapping_ttl = "90s"
}
`);
  const path = 'auth/approle/role/my-role/secret-id';
  assert.equal(can(a, 'update', path), false, 'wrapping is mandatory');
  assert.equal(can(a, 'update', path, {}, 30), true);
  assert.equal(can(a, 'update', path, {}, 90), true);
  assert.equal(can(a, 'update', path, {}, 91), false);
  const merged = acl('path "w" { capabilities = ["read"]\n max_wrapping_ttl = "1h" }', 'path "w" { capabilities = ["read"]\n max_wrapping_ttl = 120 }');
  assert.equal(can(merged, 'read', 'w', {}, 120), true);
  assert.equal(can(merged, 'read', 'w', {}, 121), false);
  const crossed = acl('path "w" { capabilities = ["read"]\n min_wrapping_ttl = "10m" }', 'path "w" { capabilities = ["read"]\n max_wrapping_ttl = "1m" }');
  assert.equal(can(crossed, 'read', 'w', {}, 30), false, 'merged min above merged max grants nothing');
});

test('legacy policy = "read|write|sudo|deny"', () => {
  const a = acl('path "r/*" { policy = "read" }\npath "w/*" { policy = "write" }\npath "s/*" { policy = "sudo" }\npath "d/*" { policy = "deny" }');
  assert.deepEqual(a.capabilities('r/x'), ['list', 'read']);
  assert.deepEqual(a.capabilities('w/x'), ['create', 'delete', 'list', 'read', 'update']);
  assert.deepEqual(a.capabilities('s/x'), ['create', 'delete', 'list', 'read', 'sudo', 'update']);
  assert.deepEqual(a.capabilities('d/x'), ['deny']);
});

test('LIST: the trailing slash is optional in the rule; a leading "/" in a rule is dropped', () => {
  const a = acl('path "/secret/metadata/app" { capabilities = ["list"] }\npath "kv/+" { capabilities = ["list"] }');
  assert.equal(can(a, 'list', 'secret/metadata/app/'), true);
  assert.equal(can(a, 'list', 'secret/metadata/app'), true);
  assert.equal(can(a, 'read', 'secret/metadata/app/'), false, 'only LIST falls back to the path without the slash');
  assert.equal(can(a, 'list', 'kv/team/'), true, '"kv/+" covers the folder kv/team/ (OpenBao)');
  assert.equal(can(a, 'list', 'kv/'), true, '"+" also matches the empty last segment');
});

test('an exact rule with no capabilities blocks the globs', () => {
  const a = acl('path "secret/*" { capabilities = ["read"] }\npath "secret/locked" { capabilities = [] }');
  assert.equal(can(a, 'read', 'secret/locked'), false);
  assert.deepEqual(a.capabilities('secret/locked'), ['deny']);
  assert.equal(can(a, 'read', 'secret/open'), true);
});

test('the default policy: self-service paths; templated paths never match without an identity', () => {
  const a = acl(DEFAULT_POLICY);
  assert.equal(can(a, 'read', 'auth/token/lookup-self'), true);
  assert.equal(can(a, 'update', 'sys/capabilities-self'), true);
  assert.equal(can(a, 'create', 'cubbyhole/mine'), true);
  assert.equal(can(a, 'list', 'cubbyhole/'), true);
  assert.equal(can(a, 'update', 'sys/wrapping/unwrap'), true);
  assert.equal(can(a, 'read', 'identity/oidc/provider/p1/authorize'), true);
  assert.equal(can(a, 'read', 'identity/entity/id/{{identity.entity.id}}'), false);
  assert.equal(can(a, 'read', 'sys/policy/default'), false);
  assert.deepEqual(a.capabilities('sys/mounts'), ['deny']);
});

test('capabilities() is sorted and reports sudo', () => {
  const a = acl('path "sys/rotate" { capabilities = ["update", "sudo", "read"] }');
  assert.deepEqual(a.capabilities('sys/rotate'), ['read', 'sudo', 'update']);
  assert.deepEqual(a.capabilities('/sys/rotate'), ['read', 'sudo', 'update']);
  const check = a.check('sys/rotate', 'delete', req());
  assert.deepEqual([check.allowed, check.sudo], [false, true]);
});

test('invalid policies are 400s that name the path stanza', () => {
  const cases: Array<[string, RegExp]> = [
    ['path "secret/foo" { capabilities = ["reed"] }', /path "secret\/foo".*invalid capability "reed"/],
    ['path "secret/*/foo" { capabilities = ["read"] }', /path "secret\/\*\/foo".*only allowed as the last character/],
    ['path "secret/+*" { capabilities = ["read"] }', /path "secret\/\+\*".*'\+\*' is forbidden/],
    ['path "w" { capabilities = ["read"]\n min_wrapping_ttl = "soon" }', /path "w".*invalid min_wrapping_ttl/],
    ['path "w" { capabilities = ["read"]\n max_wrapping_ttl = "-5s" }', /path "w".*invalid max_wrapping_ttl/],
    ['path "w" { capabilities = ["read"]\n min_wrapping_ttl = "2m"\n max_wrapping_ttl = "1m" }', /path "w".*max_wrapping_ttl cannot be less than min_wrapping_ttl/],
    ['path "w" { policy = "admin" }', /path "w".*invalid policy "admin"/],
    ['path "w" { capabilities = ["read"]\n mfa_methods = ["x"] }', /path "w".*not supported/],
    ['path "w" { capabilitiez = ["read"] }', /path "w".*invalid key "capabilitiez"/],
    ['{"path": {"j": {"capabilities": ["root"]}}}', /path "j".*invalid capability "root"/],
    ['path "w" { capabilities = ["read"] ', /HCL syntax error/],
    ['{"path": {"j": ', /JSON syntax error/],
    ['path "a" { capabilities = ' + '['.repeat(100_000), /nested too deeply/],
    ['{"path": ' + '['.repeat(100_000), /nested too deeply/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parsePolicy(text), (e: unknown) => e instanceof CofferError && e.code === 'invalid_request' && message.test(e.message), text.slice(0, 60));
  }
});

test('hasAccessUnder (the mount preflight): any non-deny rule at or below the mount path', () => {
  const a = acl('path "secret/data/app/*" { capabilities = ["read"] }\npath "kv/locked" { capabilities = ["deny"] }\npath "+" { capabilities = ["read"] }\npath "team/+/x" { capabilities = ["list"] }\npath "deep/+/*" { capabilities = ["read"] }');
  assert.equal(a.hasAccessUnder?.('secret/'), true);
  assert.equal(a.hasAccessUnder?.('kv/'), true, '"+" matches "kv" itself');
  assert.equal(acl('path "kv/locked" { capabilities = ["deny"] }\npath "kv/empty" { capabilities = [] }').hasAccessUnder?.('kv/'), false, 'deny and empty rules grant nothing');
  assert.equal(a.hasAccessUnder?.('other/mount/'), false, '"+" matches one segment, never a path under a/b/');
  assert.equal(a.hasAccessUnder?.('team/'), true);
  assert.equal(a.hasAccessUnder?.('team/q/'), true);
  assert.equal(a.hasAccessUnder?.('deep/one/two/'), true);
});
