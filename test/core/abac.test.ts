/**
 * Coffer's attribute conditions (ABAC) and Vault's templated policies, at the ACL: a matrix of
 * (condition, request context) → allow/deny, including IPv6 and edge hours; how a failing
 * condition interacts with the single-winning-rule matching; and the rule that a template value
 * can never widen a path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileAcl } from '../../src/core/acl/acl.js';
import { parsePolicy } from '../../src/core/acl/parse.js';
import { PolicyStore } from '../../src/core/acl/policy-store.js';
import type { Acl, IdentityView, RequestContext } from '../../src/core/acl/types.js';
import type { Operation } from '../../src/core/request.js';
import { CofferError } from '../../src/util/errors.js';
import { InmemStorage } from '../../src/storage/inmem.js';
import { putJson } from '../../src/storage/view.js';

const acl = (texts: string[], identity?: IdentityView): Acl => compileAcl(texts.map((t, i) => ({ ...parsePolicy(t), name: `p${i}` })), identity);
/** 2024-01-01 was a Monday. */
const at = (day: number, hh: number, mm = 0): number => Date.UTC(2024, 0, day, hh, mm);
const MONDAY_NOON = at(1, 12);
const ctx = (over: Partial<RequestContext> = {}): RequestContext => ({ clientIp: '10.1.2.3', now: MONDAY_NOON, identity: undefined, ...over });
const can = (a: Acl, op: Operation, path: string, context?: RequestContext): boolean =>
  a.check(path, op, { data: {}, wrapTtl: undefined, ...(context ? { context } : {}) }).allowed;

function identity(over: Partial<IdentityView> = {}): IdentityView {
  return {
    entityId: 'e-1', entityName: 'alice', metadata: {}, aliases: [], groups: [], policies: [], disabled: false, cacheKey: `k-${Math.random()}`, ...over,
  };
}

const withConditions = (conditions: string): Acl => acl([`path "secret/data/app" {\n  capabilities = ["read"]\n  conditions {\n${conditions}\n  }\n}`]);

test('conditions parse from HCL and JSON, and bad ones are refused naming the stanza', () => {
  const hcl = withConditions('source_cidrs = ["10.0.0.0/8"]\nentity_metadata = { team = ["ml"] }\ntime_window { days = ["mon-fri"] hours = "08:00-18:00" timezone = "UTC" }');
  const json = acl([JSON.stringify({ path: { 'secret/data/app': { capabilities: ['read'], conditions: {
    source_cidrs: ['10.0.0.0/8'], entity_metadata: { team: ['ml'] }, time_window: { days: ['mon-fri'], hours: '08:00-18:00', timezone: 'UTC' },
  } } } })]);
  const yes = ctx({ identity: identity({ metadata: { team: 'ml' } }) });
  for (const a of [hcl, json]) {
    assert.equal(can(a, 'read', 'secret/data/app', yes), true);
    assert.equal(can(a, 'read', 'secret/data/app', { ...yes, clientIp: '192.168.0.1' }), false);
  }

  const bad: [string, RegExp][] = [
    ['source_cidrs = ["10.0.0.0/33"]', /path "secret\/data\/app" on line \d+: source_cidrs: "10.0.0.0\/33" is not an IPv4 or IPv6 CIDR/],
    ['source_cidrs = []', /at least one CIDR/],
    ['source_ip = ["10.0.0.1"]', /invalid condition "source_ip"/],
    ['entity_metadata = {}', /at least one key/],
    ['time_window = { hours = "8-18" }', /must look like "08:00-18:00"/],
    ['time_window = { hours = "08:00-08:00" }', /must not start and end at the same time/],
    ['time_window = { hours = "25:00-26:00" }', /not a valid time range/],
    ['time_window = { timezone = "Mars/Olympus" }', /unknown timezone "Mars\/Olympus"/],
    ['time_window = { days = ["funday"] }', /unknown day "funday"/],
    ['time_window = { weekdays = ["mon"] }', /invalid key "weekdays"/],
  ];
  for (const [conditions, message] of bad) {
    assert.throws(() => withConditions(conditions), (e: unknown) => e instanceof CofferError && e.code === 'invalid_request' && message.test(e.message), conditions);
  }
  assert.throws(() => acl(['path "a" {\n capabilities = ["read"]\n conditions { source_cidrs = ["10.0.0.0/8"] }\n conditions { source_cidrs = ["10.0.0.0/8"] }\n}']), /only once/);
});

test('ABAC matrix: (condition, request context) → allow/deny', () => {
  const ml = identity({ metadata: { team: 'ml', env: 'prod' } });
  const cases: { conditions: string; context: RequestContext | undefined; allowed: boolean; why: string }[] = [
    // source_cidrs: IPv4, IPv6, mapped IPv4, unknown addresses
    { conditions: 'source_cidrs = ["10.0.0.0/8"]', context: ctx({ clientIp: '10.255.255.255' }), allowed: true, why: 'last address of 10/8' },
    { conditions: 'source_cidrs = ["10.0.0.0/8"]', context: ctx({ clientIp: '11.0.0.0' }), allowed: false, why: 'first address after 10/8' },
    { conditions: 'source_cidrs = ["10.0.0.0/8"]', context: ctx({ clientIp: '::ffff:10.9.8.7' }), allowed: true, why: 'IPv4-mapped IPv6 is the IPv4 address' },
    { conditions: 'source_cidrs = ["10.0.0.0/8"]', context: ctx({ clientIp: '::1' }), allowed: false, why: 'IPv6 client, IPv4 range' },
    { conditions: 'source_cidrs = ["2001:db8::/32"]', context: ctx({ clientIp: '2001:db8:ffff:ffff::1' }), allowed: true, why: 'inside 2001:db8::/32' },
    { conditions: 'source_cidrs = ["2001:db8::/32"]', context: ctx({ clientIp: '2001:db9::1' }), allowed: false, why: 'just outside 2001:db8::/32' },
    { conditions: 'source_cidrs = ["2001:db8::/32"]', context: ctx({ clientIp: '10.0.0.1' }), allowed: false, why: 'IPv4 client, IPv6 range' },
    { conditions: 'source_cidrs = ["::1/128", "127.0.0.0/8"]', context: ctx({ clientIp: '::1' }), allowed: true, why: 'IPv6 loopback in a mixed list' },
    { conditions: 'source_cidrs = ["192.168.1.7"]', context: ctx({ clientIp: '192.168.1.7' }), allowed: true, why: 'a bare address is a /32' },
    { conditions: 'source_cidrs = ["192.168.1.7"]', context: ctx({ clientIp: '192.168.1.8' }), allowed: false, why: 'next address' },
    { conditions: 'source_cidrs = ["0.0.0.0/0"]', context: ctx({ clientIp: 'not-an-ip' }), allowed: false, why: 'an unparsable address matches nothing' },
    // entity_metadata
    { conditions: 'entity_metadata = { team = ["ml"] }', context: ctx({ identity: ml }), allowed: true, why: 'matching value' },
    { conditions: 'entity_metadata = { team = ["data", "ml"] }', context: ctx({ identity: ml }), allowed: true, why: 'one of several values' },
    { conditions: 'entity_metadata = { team = ["ML"] }', context: ctx({ identity: ml }), allowed: false, why: 'values compare exactly' },
    { conditions: 'entity_metadata = { team = ["ml"] }', context: ctx(), allowed: false, why: 'a token without an entity' },
    { conditions: 'entity_metadata = { region = [] }', context: ctx({ identity: ml }), allowed: false, why: 'missing key, even with [] (any value)' },
    { conditions: 'entity_metadata = { env = [] }', context: ctx({ identity: ml }), allowed: true, why: '[] is any value of a present key' },
    { conditions: 'entity_metadata = { team = ["ml"], env = ["dev"] }', context: ctx({ identity: ml }), allowed: false, why: 'every key must match' },
    { conditions: 'entity_metadata = { "__proto__" = [] }', context: ctx({ identity: ml }), allowed: false, why: 'no prototype keys' },
    // time_window: edge hours (start inclusive, end exclusive)
    { conditions: 'time_window = { hours = "08:00-18:00" }', context: ctx({ now: at(1, 7, 59) }), allowed: false, why: '07:59' },
    { conditions: 'time_window = { hours = "08:00-18:00" }', context: ctx({ now: at(1, 8, 0) }), allowed: true, why: '08:00' },
    { conditions: 'time_window = { hours = "08:00-18:00" }', context: ctx({ now: at(1, 17, 59) }), allowed: true, why: '17:59' },
    { conditions: 'time_window = { hours = "08:00-18:00" }', context: ctx({ now: at(1, 18, 0) }), allowed: false, why: '18:00' },
    { conditions: 'time_window = { hours = "00:00-24:00", days = ["sun"] }', context: ctx({ now: at(7, 23, 59) }), allowed: true, why: 'Sunday 23:59, whole day' },
    { conditions: 'time_window = { days = ["mon-fri"] }', context: ctx({ now: at(6, 12) }), allowed: false, why: 'Saturday' },
    { conditions: 'time_window = { days = ["fri-mon"] }', context: ctx({ now: at(7, 12) }), allowed: true, why: 'a day range wrapping the weekend' },
    // time zones: 08:00 in New York is 13:00 UTC in January, 12:00 UTC in July (DST)
    { conditions: 'time_window = { hours = "08:00-09:00", timezone = "America/New_York" }', context: ctx({ now: at(1, 12, 59) }), allowed: false, why: '07:59 in New York (winter)' },
    { conditions: 'time_window = { hours = "08:00-09:00", timezone = "America/New_York" }', context: ctx({ now: at(1, 13, 0) }), allowed: true, why: '08:00 in New York (winter)' },
    { conditions: 'time_window = { hours = "08:00-09:00", timezone = "America/New_York" }', context: ctx({ now: Date.UTC(2024, 6, 1, 12, 0) }), allowed: true, why: '08:00 in New York (summer time)' },
    { conditions: 'time_window = { days = ["mon"], timezone = "Asia/Tokyo" }', context: ctx({ now: Date.UTC(2024, 0, 7, 15, 0) }), allowed: true, why: 'Sunday 15:00 UTC is Monday 00:00 in Tokyo' },
    // hours wrapping midnight belong to the day they start on
    { conditions: 'time_window = { hours = "22:00-06:00", days = ["fri"] }', context: ctx({ now: at(5, 21, 59) }), allowed: false, why: 'Friday 21:59' },
    { conditions: 'time_window = { hours = "22:00-06:00", days = ["fri"] }', context: ctx({ now: at(5, 22, 0) }), allowed: true, why: 'Friday 22:00' },
    { conditions: 'time_window = { hours = "22:00-06:00", days = ["fri"] }', context: ctx({ now: at(6, 5, 59) }), allowed: true, why: 'Saturday 05:59 is still Friday night' },
    { conditions: 'time_window = { hours = "22:00-06:00", days = ["fri"] }', context: ctx({ now: at(6, 6, 0) }), allowed: false, why: 'Saturday 06:00' },
    { conditions: 'time_window = { hours = "22:00-06:00", days = ["fri"] }', context: ctx({ now: at(5, 5, 0) }), allowed: false, why: 'Friday 05:00 is Thursday night' },
    { conditions: 'time_window = { hours = "22:00-06:00", days = ["fri"] }', context: ctx({ now: at(6, 22, 0) }), allowed: false, why: 'Saturday 22:00' },
    // all conditions must hold
    { conditions: 'source_cidrs = ["10.0.0.0/8"]\nentity_metadata = { team = ["ml"] }\ntime_window = { hours = "08:00-18:00" }', context: ctx({ identity: ml }), allowed: true, why: 'all hold' },
    { conditions: 'source_cidrs = ["10.0.0.0/8"]\nentity_metadata = { team = ["ml"] }\ntime_window = { hours = "08:00-18:00" }', context: ctx({ identity: ml, now: at(1, 19) }), allowed: false, why: 'outside the window' },
    { conditions: 'source_cidrs = ["10.0.0.0/8"]\nentity_metadata = { team = ["ml"] }\ntime_window = { hours = "08:00-18:00" }', context: ctx({ identity: ml, clientIp: '::1' }), allowed: false, why: 'wrong address' },
    // no request context: a conditional stanza never applies
    { conditions: 'source_cidrs = ["0.0.0.0/0", "::/0"]', context: undefined, allowed: false, why: 'no context to evaluate against' },
  ];
  for (const c of cases) {
    const a = withConditions(c.conditions);
    assert.equal(can(a, 'read', 'secret/data/app', c.context), c.allowed, `${c.why}: ${c.conditions}`);
    assert.deepEqual(a.capabilities('secret/data/app', c.context), c.allowed ? ['read'] : ['deny'], `capabilities: ${c.why}`);
  }
});

test('a stanza whose conditions fail is absent: the next best rule decides', () => {
  const a = acl([
    'path "secret/*" { capabilities = ["read"] }',
    'path "secret/app" {\n capabilities = ["read", "update"]\n conditions { source_cidrs = ["10.0.0.0/8"] }\n}',
  ]);
  assert.equal(can(a, 'update', 'secret/app', ctx()), true, 'the exact rule applies from 10/8');
  assert.equal(can(a, 'update', 'secret/app', ctx({ clientIp: '192.0.2.1' })), false, 'elsewhere it is absent...');
  assert.equal(can(a, 'read', 'secret/app', ctx({ clientIp: '192.0.2.1' })), true, '...and secret/* decides (Vault would have let the exact rule win)');

  // Conditional deny: denies only while its conditions hold.
  const d = acl([
    'path "secret/*" { capabilities = ["read"] }',
    'path "secret/app" {\n capabilities = ["deny"]\n conditions { time_window = { hours = "18:00-08:00" } }\n}',
  ]);
  assert.equal(can(d, 'read', 'secret/app', ctx({ now: at(1, 12) })), true, 'office hours: the deny is absent');
  assert.equal(can(d, 'read', 'secret/app', ctx({ now: at(1, 23) })), false, 'at night the deny applies');
  assert.equal(can(d, 'read', 'secret/other', ctx({ now: at(1, 23) })), true);

  // Same path in two policies: the conditional stanza merges in only while it holds.
  const m = acl([
    'path "kv/app" { capabilities = ["read"] }',
    'path "kv/app" {\n capabilities = ["update"]\n conditions { entity_metadata = { role = ["admin"] } }\n}',
  ]);
  assert.deepEqual(m.capabilities('kv/app', ctx({ identity: identity({ metadata: { role: 'admin' } }) })), ['read', 'update']);
  assert.deepEqual(m.capabilities('kv/app', ctx({ identity: identity({ metadata: { role: 'dev' } }) })), ['read']);
  assert.deepEqual(m.capabilities('kv/app'), ['read'], 'without a context only the unconditional stanza applies');

  // A conditional segment rule that outranks a prefix rule only while it holds.
  const s = acl([
    'path "team/*" { capabilities = ["list"] }',
    'path "team/+/data" {\n capabilities = ["read"]\n conditions { source_cidrs = ["2001:db8::/32"] }\n}',
  ]);
  assert.deepEqual(s.capabilities('team/a/data', ctx({ clientIp: '2001:db8::5' })), ['read']);
  assert.deepEqual(s.capabilities('team/a/data', ctx({ clientIp: '10.0.0.1' })), ['list']);
  assert.equal(s.hasAccessUnder?.('team/a/', ctx({ clientIp: '2001:db8::5' })), true, 'mount preflight: a rule under the prefix grants, now');
  assert.equal(s.hasAccessUnder?.('team/a/', ctx({ clientIp: '10.0.0.1' })), false, 'not from elsewhere');
});

test('explain names the deciding stanza, its policy, and each condition', () => {
  const a = compileAcl([
    { ...parsePolicy('path "secret/*" { capabilities = ["read"] }'), name: 'base' },
    { ...parsePolicy('path "secret/app" {\n capabilities = ["update"]\n conditions {\n source_cidrs = ["10.0.0.0/8"]\n time_window = { hours = "08:00-18:00" }\n }\n}'), name: 'office' },
  ]);
  const inOffice = a.explain!('secret/app', 'update', { data: {}, wrapTtl: undefined, context: ctx() });
  assert.equal(inOffice.allowed, true);
  assert.equal(inOffice.rule, 'secret/app');
  assert.equal(inOffice.match, 'exact');
  assert.deepEqual(inOffice.decidedBy.map((s) => [s.policy, s.path, s.conditions.map((c) => [c.condition, c.holds])]), [
    ['office', 'secret/app', [['source_cidrs', true], ['time_window', true]]],
  ]);
  assert.deepEqual(inOffice.skipped, []);

  const evening = a.explain!('secret/app', 'update', { data: {}, wrapTtl: undefined, context: ctx({ now: at(1, 20) }) });
  assert.equal(evening.allowed, false);
  assert.equal(evening.rule, 'secret/*');
  assert.equal(evening.match, 'prefix');
  assert.match(evening.reason, /"secret\/\*" does not grant "update"/);
  assert.deepEqual(evening.decidedBy.map((s) => s.policy), ['base']);
  assert.equal(evening.skipped.length, 1);
  const skipped = evening.skipped[0]!;
  assert.equal(skipped.policy, 'office');
  assert.deepEqual(skipped.conditions.map((c) => [c.condition, c.holds]), [['source_cidrs', true], ['time_window', false]]);
  assert.match(skipped.conditions[1]!.detail, /local time mon 20:00 UTC is outside every day 08:00-18:00 UTC/);

  const none = a.explain!('other/x', 'read', { data: {}, wrapTtl: undefined, context: ctx() });
  assert.equal(none.allowed, false);
  assert.equal(none.rule, undefined);
  assert.match(none.reason, /no stanza/);
});

test('templated paths are filled from the identity; each entity sees only its own', () => {
  const policy = [
    'path "secret/data/{{identity.entity.name}}/*" { capabilities = ["read"] }',
    'path "secret/data/by-id/{{identity.entity.id}}" { capabilities = ["read"] }',
    'path "secret/data/team/{{identity.entity.metadata.team}}/*" { capabilities = ["read"] }',
    'path "secret/data/alias/{{identity.entity.aliases.auth_userpass_1.name}}" { capabilities = ["read"] }',
    'path "secret/data/alias-meta/{{ identity.entity.aliases.auth_userpass_1.metadata.dept }}" { capabilities = ["read"] }',
    'path "secret/data/group/{{identity.groups.names.eng.id}}" { capabilities = ["read"] }',
    'path "secret/data/group-name/{{identity.groups.ids.g-1.name}}" { capabilities = ["read"] }',
    'path "secret/data/group-meta/{{identity.groups.names.eng.metadata.cost}}" { capabilities = ["read"] }',
  ];
  const alice = identity({
    entityId: 'e-alice', entityName: 'alice', metadata: { team: 'ml' },
    aliases: [{ id: 'a-1', name: 'alice', mountAccessor: 'auth_userpass_1', metadata: { dept: 'r-and-d' } }],
    groups: [{ id: 'g-1', name: 'eng', metadata: { cost: 'c42' } }],
  });
  const bob = identity({ entityId: 'e-bob', entityName: 'bob', metadata: { team: 'web' } });
  const forAlice = acl(policy, alice);
  const forBob = acl(policy, bob);
  const reads = (a: Acl, path: string): boolean => can(a, 'read', path, ctx());
  for (const path of ['secret/data/alice/x', 'secret/data/by-id/e-alice', 'secret/data/team/ml/x', 'secret/data/alias/alice', 'secret/data/alias-meta/r-and-d',
    'secret/data/group/g-1', 'secret/data/group-name/eng', 'secret/data/group-meta/c42']) {
    assert.equal(reads(forAlice, path), true, `alice reads ${path}`);
    assert.equal(reads(forBob, path), false, `bob does not read ${path}`);
  }
  assert.equal(reads(forBob, 'secret/data/bob/x'), true);
  assert.equal(reads(forBob, 'secret/data/team/web/x'), true);
  assert.equal(reads(forBob, 'secret/data/group/g-1'), false, 'bob is in no group: group templates do not apply');
  // Without an identity no templated stanza applies, even literally.
  const anonymous = acl(policy);
  assert.equal(reads(anonymous, 'secret/data/{{identity.entity.name}}/x'), false);
  assert.equal(reads(anonymous, 'secret/data/alice/x'), false);
  // The explanation shows the template and what it became.
  const e = forAlice.explain!('secret/data/alice/x', 'read', { data: {}, wrapTtl: undefined, context: ctx() });
  assert.deepEqual(e.decidedBy.map((s) => [s.path, s.rendered]), [['secret/data/{{identity.entity.name}}/*', 'secret/data/alice/*']]);
});

test('a template value with *, +, / (or anything but a plain segment) never widens a path: the stanza does not apply', () => {
  const policy = [
    'path "secret/data/{{identity.entity.metadata.tenant}}/*" { capabilities = ["read"] }',
    'path "secret/data/users/{{identity.entity.name}}" { capabilities = ["read"] }',
  ];
  const probes = ['secret/data/victim/creds', 'secret/data/admin/x', 'secret/data/users/victim', 'secret/data/users/x/y', 'secret/data/a/b/c'];
  const hostile = ['*', '+', 'a*', '+/x', 'x/+', 'a/b', '..', '.', '', '{{identity.entity.id}}', 'a\\b', '%2F', 'a\u0000', 'victim/*'];
  for (const value of hostile) {
    const a = acl(policy, identity({ entityName: value, metadata: { tenant: value } }));
    for (const path of probes) assert.equal(can(a, 'read', path, ctx()), false, `value ${JSON.stringify(value)} must not reach ${path}`);
    assert.deepEqual(a.capabilities('secret/data/victim/creds', ctx()), ['deny']);
  }
  // A missing value also leaves the stanza out (it does not become an empty segment).
  const missing = acl(policy, identity({ entityName: 'eve', metadata: {} }));
  assert.equal(can(missing, 'read', 'secret/data//x', ctx()), false);
  assert.equal(can(missing, 'read', 'secret/data/users/eve', ctx()), true, 'the other stanza still applies');
  // Plain values, spaces and dots inside included, work.
  const plain = acl(policy, identity({ entityName: 'Jo Doe', metadata: { tenant: 'acme.io' } }));
  assert.equal(can(plain, 'read', 'secret/data/acme.io/k', ctx()), true);
  assert.equal(can(plain, 'read', 'secret/data/users/Jo Doe', ctx()), true);
});

test('template syntax is checked when the policy is written', () => {
  for (const [text, message] of [
    ['path "a/{{identity.entity.nam}}" { capabilities = ["read"] }', /unknown template directive \{\{identity.entity.nam\}\}/],
    ['path "a/{{identity.entity.id" { capabilities = ["read"] }', /unbalanced templating characters/],
    ['path "a/identity.entity.id}}" { capabilities = ["read"] }', /unbalanced templating characters/],
    ['path "a/{{identity.groups.names.eng}}" { capabilities = ["read"] }', /unknown template directive/],
    ['path "a/{{identity.entity.metadata}}" { capabilities = ["read"] }', /unknown template directive/],
  ] as const) {
    assert.throws(() => parsePolicy(text), (e: unknown) => e instanceof CofferError && message.test(e.message), text);
  }
});

test('PolicyStore: identity policies join the set, templated ACLs follow the identity', async () => {
  const store = new PolicyStore(new InmemStorage());
  await store.load();
  await store.put('own', 'path "secret/{{identity.entity.name}}" { capabilities = ["read"] }');
  await store.put('group-pol', 'path "shared/*" { capabilities = ["list"] }');
  const alice = identity({ entityName: 'alice', policies: ['group-pol'], cacheKey: 'e-1@1' });
  const a1 = await store.aclFor(['own'], alice);
  assert.deepEqual(a1.capabilities('secret/alice', ctx()), ['read']);
  assert.deepEqual(a1.capabilities('shared/x', ctx()), ['list'], 'identity policies apply');
  assert.equal(await store.aclFor(['own'], alice), a1, 'cached for the same identity version');
  const renamed = identity({ entityName: 'alicia', policies: [], cacheKey: 'e-1@2' });
  const a2 = await store.aclFor(['own'], renamed);
  assert.deepEqual(a2.capabilities('secret/alice', ctx()), ['deny'], 'a new identity version is filled in again');
  assert.deepEqual(a2.capabilities('secret/alicia', ctx()), ['read']);
  assert.deepEqual(a2.capabilities('shared/x', ctx()), ['deny'], 'the group policy is gone with the membership');
  assert.deepEqual((await store.aclFor(['own'])).capabilities('secret/alice', ctx()), ['deny'], 'no identity, no template');
});

test('a stored policy with a directive this version does not know still loads; that stanza never applies', async () => {
  const storage = new InmemStorage();
  const store = new PolicyStore(storage);
  await store.load();
  // Written by an earlier version, which accepted any {{...}}: not through put(), which refuses it now.
  await putJson(storage, 'legacy', { name: 'legacy', policy: 'path "a/{{identity.entity.nickname}}" { capabilities = ["read"] }\npath "b/*" { capabilities = ["read"] }' });
  const a = await store.aclFor(['legacy'], identity({ entityName: 'x', cacheKey: 'e@1' }));
  assert.deepEqual(a.capabilities('a/x', ctx()), ['deny']);
  assert.deepEqual(a.capabilities('a/{{identity.entity.nickname}}', ctx()), ['deny']);
  assert.deepEqual(a.capabilities('b/c', ctx()), ['read']);
  await assert.rejects(store.put('again', 'path "a/{{identity.entity.nickname}}" { capabilities = ["read"] }'), /unknown template directive/);
});
