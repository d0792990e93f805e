/**
 * The identity/ mount over real HTTP: Vault's paths, fields and response shapes; entities made by
 * a real userpass login; group policies deciding the very next request; disabled entities; the
 * default policy's templated self-read; the records surviving a restart on SQLite; external
 * groups fed from a real JWT login's groups claim; and hvac's identity client.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, exportSPKI, generateKeyPair } from 'jose';
import { hvacPython, runPython } from '../compat/python.js';
import { startDevServer, type TestServer } from '../helpers/server.js';
import { tmpDir } from '../helpers/tmp.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

/** Replaces ids and timestamps by placeholders so whole bodies can be compared exactly. */
function shape(value: unknown, ids: Record<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => shape(v, ids));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [ids[k] ?? k, shape(v, ids)]));
  if (typeof value === 'string' && TIME.test(value)) return '<time>';
  if (typeof value === 'string' && ids[value] !== undefined) return ids[value];
  return value;
}

async function userpass(s: TestServer, users: Record<string, string[]>): Promise<string> {
  assert.equal((await s.call('POST', 'sys/auth/userpass', { type: 'userpass' })).status, 204);
  for (const [name, policies] of Object.entries(users)) {
    assert.equal((await s.call('POST', `auth/userpass/users/${name}`, { password: `${name}-password-1`, token_policies: policies })).status, 204);
  }
  return (await s.call('GET', 'sys/auth')).body.data['userpass/'].accessor as string;
}

async function loginAs(s: TestServer, name: string): Promise<{ token: string; entityId: string; body: any }> {
  const r = await s.call('POST', `auth/userpass/login/${name}`, { password: `${name}-password-1` });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return { token: r.body.auth.client_token, entityId: r.body.auth.entity_id, body: r.body };
}

const as = (token: string) => ({ 'X-Vault-Token': token });

test('entities: create, read, update, list, delete with Vault\'s shapes', async () => {
  const s = await startDevServer();
  const created = await s.call('POST', 'identity/entity', { name: 'alice', metadata: { team: 'ml' }, policies: 'dev,ops' });
  assert.equal(created.status, 200);
  const id: string = created.body.data.id;
  assert.match(id, UUID);
  assert.deepEqual(created.body.data, { id, name: 'alice', aliases: null });

  const read = await s.call('GET', `identity/entity/id/${id}`);
  assert.equal(read.status, 200);
  assert.equal(read.body.mount_type, 'identity');
  assert.deepEqual(shape(read.body.data, { [id]: '<id>' }), {
    id: '<id>', name: 'alice', metadata: { team: 'ml' }, merged_entity_ids: null, policies: ['dev', 'ops'], disabled: false, namespace_id: 'root',
    creation_time: '<time>', last_update_time: '<time>', aliases: [], direct_group_ids: [], inherited_group_ids: [], group_ids: [],
  });
  assert.deepEqual((await s.call('GET', 'identity/entity/name/alice')).body.data, read.body.data);

  // Updates answer 204 and keep what they do not mention; by name creates or updates.
  assert.equal((await s.call('POST', `identity/entity/id/${id}`, { policies: ['dev'] })).status, 204);
  assert.equal((await s.call('POST', 'identity/entity/name/alice', { metadata: { team: 'data' } })).status, 204);
  const after = (await s.call('GET', `identity/entity/id/${id}`)).body.data;
  assert.deepEqual([after.policies, after.metadata], [['dev'], { team: 'data' }]);
  const bob = await s.call('POST', 'identity/entity/name/bob', {});
  assert.equal(bob.status, 200);
  assert.equal(bob.body.data.name, 'bob');

  const byId = await s.call('LIST', 'identity/entity/id');
  assert.deepEqual(byId.body.data.keys, [id, bob.body.data.id].sort());
  assert.deepEqual(byId.body.data.key_info[id], { name: 'alice' });
  const byName = await s.call('GET', 'identity/entity/name?list=true');
  assert.deepEqual(byName.body.data.keys, ['alice', 'bob']);

  // Vault's errors.
  const dup = await s.call('POST', `identity/entity/id/${bob.body.data.id}`, { name: 'alice' });
  assert.deepEqual([dup.status, dup.body.errors], [400, ['entity name is already in use']]);
  const root = await s.call('POST', 'identity/entity', { name: 'x', policies: ['root'] });
  assert.deepEqual([root.status, root.body.errors], [400, ['policies cannot contain root']]);
  assert.deepEqual((await s.call('POST', 'identity/entity/id/nope', {})).body.errors, ['entity not found from id']);
  assert.equal((await s.call('GET', 'identity/entity/id/nope')).status, 404);

  assert.equal((await s.call('DELETE', 'identity/entity/name/bob')).status, 204);
  assert.equal((await s.call('DELETE', `identity/entity/id/${id}`)).status, 204);
  assert.equal((await s.call('DELETE', `identity/entity/id/${id}`)).status, 204, 'deleting twice is fine');
  assert.equal((await s.call('LIST', 'identity/entity/id')).status, 404, 'an empty list is a 404');
});

test('aliases, groups, group aliases and lookups over HTTP', async () => {
  const s = await startDevServer();
  const accessor = await userpass(s, {});
  const entity = (await s.call('POST', 'identity/entity', { name: 'carol' })).body.data.id as string;

  const alias = await s.call('POST', 'identity/entity-alias', { name: 'carol', mount_accessor: accessor, canonical_id: entity, custom_metadata: { phone: '123' } });
  assert.equal(alias.status, 200);
  const aliasId = alias.body.data.id as string;
  assert.deepEqual(alias.body.data, { id: aliasId, canonical_id: entity });
  const ids = { [aliasId]: '<alias>', [entity]: '<entity>', [accessor]: '<accessor>' };
  assert.deepEqual(shape((await s.call('GET', `identity/entity-alias/id/${aliasId}`)).body.data, ids), {
    id: '<alias>', canonical_id: '<entity>', mount_accessor: '<accessor>', metadata: null, custom_metadata: { phone: '123' }, name: 'carol',
    merged_from_canonical_ids: null, namespace_id: 'root', local: false, mount_path: 'auth/userpass/', mount_type: 'userpass',
    creation_time: '<time>', last_update_time: '<time>',
  });
  assert.deepEqual(shape((await s.call('LIST', 'identity/entity-alias/id')).body.data, ids), {
    keys: ['<alias>'],
    key_info: { '<alias>': { name: 'carol', canonical_id: '<entity>', mount_accessor: '<accessor>', custom_metadata: { phone: '123' }, metadata: null, local: false, mount_path: 'auth/userpass/', mount_type: 'userpass' } },
  });
  const entityRead = (await s.call('GET', `identity/entity/id/${entity}`)).body.data;
  assert.deepEqual(entityRead.aliases.map((a: any) => [a.id, a.name, a.mount_path]), [[aliasId, 'carol', 'auth/userpass/']]);
  const clash = await s.call('POST', 'identity/entity-alias', { name: 'other', mount_accessor: accessor, canonical_id: entity });
  assert.deepEqual([clash.status, clash.body.errors], [400, ['Alias already exists for requested entity and mount accessor']]);

  // Groups: internal with members and nested groups.
  const inner = await s.call('POST', 'identity/group', { name: 'inner', policies: ['p1'], member_entity_ids: [entity], metadata: { k: 'v' } });
  assert.equal(inner.status, 200);
  const innerId = inner.body.data.id as string;
  assert.deepEqual(inner.body.data, { id: innerId, name: 'inner' });
  const outer = (await s.call('POST', 'identity/group/name/outer', { policies: 'p2', member_group_ids: [innerId] })).body.data.id as string;
  const gids = { ...ids, [innerId]: '<inner>', [outer]: '<outer>' };
  assert.deepEqual(shape((await s.call('GET', `identity/group/id/${innerId}`)).body.data, gids), {
    id: '<inner>', name: 'inner', policies: ['p1'], member_entity_ids: ['<entity>'], parent_group_ids: ['<outer>'], metadata: { k: 'v' },
    creation_time: '<time>', last_update_time: '<time>', modify_index: 1, type: 'internal', namespace_id: 'root', alias: {}, member_group_ids: null,
  });
  assert.deepEqual((await s.call('GET', 'identity/group/name/outer')).body.data.member_group_ids, [innerId]);
  const groupsOfEntity = (await s.call('GET', `identity/entity/id/${entity}`)).body.data;
  assert.deepEqual([groupsOfEntity.direct_group_ids, groupsOfEntity.inherited_group_ids, groupsOfEntity.group_ids], [[innerId], [outer], [innerId, outer]]);
  assert.deepEqual(shape((await s.call('LIST', 'identity/group/name')).body.data, gids), {
    keys: ['inner', 'outer'],
    key_info: { '<inner>': { name: 'inner', num_member_entities: 1, num_parent_groups: 1 }, '<outer>': { name: 'outer', num_member_entities: 0, num_parent_groups: 0 } },
  });
  const cycle = await s.call('POST', `identity/group/id/${innerId}`, { member_group_ids: [outer] });
  assert.equal(cycle.status, 400);
  assert.match(cycle.body.errors[0], /cyclic relationship detected/);
  assert.equal((await s.call('POST', `identity/group/id/${innerId}`, { policies: ['p1', 'p3'] })).status, 204);

  // External group with an alias on the userpass mount.
  const ext = (await s.call('POST', 'identity/group', { name: 'ext', type: 'external', policies: ['e'] })).body.data.id as string;
  const galias = await s.call('POST', 'identity/group-alias', { name: 'claim-ops', mount_accessor: accessor, canonical_id: ext });
  assert.equal(galias.status, 200);
  const galiasId = galias.body.data.id as string;
  assert.deepEqual(galias.body.data, { id: galiasId, canonical_id: ext });
  const extRead = (await s.call('GET', `identity/group/id/${ext}`)).body.data;
  assert.deepEqual(shape(extRead.alias, { ...ids, [galiasId]: '<galias>', [ext]: '<ext>' }), {
    id: '<galias>', canonical_id: '<ext>', mount_accessor: '<accessor>', metadata: null, name: 'claim-ops', merged_from_canonical_ids: null,
    mount_path: 'auth/userpass/', mount_type: 'userpass', creation_time: '<time>', last_update_time: '<time>',
  });
  assert.equal((await s.call('GET', `identity/group-alias/id/${galiasId}`)).body.data.name, 'claim-ops');
  assert.deepEqual((await s.call('LIST', 'identity/group-alias/id')).body.data.keys, [galiasId]);
  const manual = await s.call('POST', `identity/group/id/${ext}`, { member_entity_ids: [entity] });
  assert.deepEqual(manual.body.errors, ["member entities can't be set manually for external groups"]);

  // Lookups: found → the read shape; nothing found → 204.
  const found = await s.call('POST', 'identity/lookup/entity', { alias_name: 'carol', alias_mount_accessor: accessor });
  assert.deepEqual(found.body.data, (await s.call('GET', `identity/entity/id/${entity}`)).body.data);
  assert.equal((await s.call('POST', 'identity/lookup/entity', { name: 'nobody' })).status, 204);
  assert.equal((await s.call('POST', 'identity/lookup/group', { alias_id: galiasId })).body.data.id, ext);
  assert.deepEqual((await s.call('POST', 'identity/lookup/group', { name: 'a', id: 'b' })).body.errors, ['query parameter conflict; please supply distinct set of query parameters']);

  // Deletes.
  assert.equal((await s.call('DELETE', `identity/group-alias/id/${galiasId}`)).status, 204);
  assert.deepEqual((await s.call('GET', `identity/group/id/${ext}`)).body.data.alias, {});
  assert.equal((await s.call('DELETE', 'identity/group/name/outer')).status, 204);
  assert.equal((await s.call('GET', `identity/group/id/${innerId}`)).body.data.parent_group_ids, null);
  assert.equal((await s.call('DELETE', `identity/entity-alias/id/${aliasId}`)).status, 204);
  assert.equal((await s.call('GET', `identity/entity-alias/id/${aliasId}`)).status, 404);
});

test('a userpass login makes the entity; group policies decide the very next request', async () => {
  const s = await startDevServer();
  const accessor = await userpass(s, { dave: ['default'] });
  assert.equal((await s.call('PUT', 'sys/policies/acl/shared-read', { policy: 'path "secret/data/shared/*" { capabilities = ["read"] }' })).status, 204);
  assert.equal((await s.call('POST', 'secret/data/shared/cfg', { data: { v: 1 } })).status, 200);

  const first = await loginAs(s, 'dave');
  assert.match(first.entityId, UUID, 'entity created on first login');
  assert.deepEqual(first.body.auth.identity_policies, []);
  const entity = (await s.call('GET', `identity/entity/id/${first.entityId}`)).body.data;
  assert.deepEqual(entity.aliases.map((a: any) => [a.name, a.mount_accessor, a.mount_type, a.mount_path]), [['dave', accessor, 'userpass', 'auth/userpass/']]);
  assert.equal((await loginAs(s, 'dave')).entityId, first.entityId, 'the next login finds the same entity');

  const read = () => s.call('GET', 'secret/data/shared/cfg', undefined, as(first.token));
  assert.equal((await read()).status, 403);
  const group = (await s.call('POST', 'identity/group', { name: 'readers', member_entity_ids: [first.entityId], policies: ['shared-read'] })).body.data.id as string;
  assert.equal((await read()).status, 200, 'granted by the group: the very next request');
  const self = (await s.call('GET', 'auth/token/lookup-self', undefined, as(first.token))).body.data;
  assert.deepEqual(self.identity_policies, ['shared-read']);
  const caps = await s.call('POST', 'sys/capabilities-self', { paths: ['secret/data/shared/cfg'] }, as(first.token));
  assert.deepEqual(caps.body.data.capabilities, ['read']);

  assert.equal((await s.call('POST', `identity/group/id/${group}`, { policies: [] })).status, 204);
  assert.equal((await read()).status, 403, 'policy removed: denied on the very next request');
  assert.equal((await s.call('POST', `identity/group/id/${group}`, { policies: ['shared-read'] })).status, 204);
  assert.equal((await read()).status, 200);
  assert.equal((await s.call('POST', `identity/group/id/${group}`, { member_entity_ids: [] })).status, 204);
  assert.equal((await read()).status, 403, 'membership removed: denied on the very next request');

  // Entity policies count too, and a new login reports them in its auth block.
  assert.equal((await s.call('POST', `identity/entity/id/${first.entityId}`, { policies: ['shared-read'] })).status, 204);
  assert.equal((await read()).status, 200);
  const relogin = await loginAs(s, 'dave');
  assert.deepEqual([relogin.body.auth.identity_policies, relogin.body.auth.token_policies], [['shared-read'], ['default']]);
  assert.deepEqual(relogin.body.auth.policies, ['default', 'shared-read']);

  // A disabled entity's tokens are refused, not revoked; logins are refused too.
  assert.equal((await s.call('POST', `identity/entity/id/${first.entityId}`, { disabled: true })).status, 204);
  assert.equal((await read()).status, 403);
  assert.equal((await s.call('GET', 'auth/token/lookup-self', undefined, as(first.token))).status, 403);
  assert.equal((await s.call('POST', 'auth/userpass/login/dave', { password: 'dave-password-1' })).status, 403);
  assert.equal((await s.call('POST', `identity/entity/id/${first.entityId}`, { disabled: false })).status, 204);
  assert.equal((await read()).status, 200, 'enabled again: the same token works');
});

test('the default policy lets a token read its own entity, and only its own', async () => {
  const s = await startDevServer();
  await userpass(s, { erin: ['default'], frank: ['default'] });
  const erin = await loginAs(s, 'erin');
  const frank = await loginAs(s, 'frank');
  const own = await s.call('GET', `identity/entity/id/${erin.entityId}`, undefined, as(erin.token));
  assert.equal(own.status, 200);
  assert.equal(own.body.data.id, erin.entityId);
  const ownName = own.body.data.name as string;
  assert.equal((await s.call('GET', `identity/entity/name/${ownName}`, undefined, as(erin.token))).status, 200);
  assert.equal((await s.call('GET', `identity/entity/id/${frank.entityId}`, undefined, as(erin.token))).status, 403);
  assert.equal((await s.call('LIST', 'identity/entity/id', undefined, as(erin.token))).status, 403);
  assert.equal((await s.call('POST', `identity/entity/id/${erin.entityId}`, { policies: ['admin'] }, as(erin.token))).status, 403, 'reading is not writing');
});

test('identity records survive a restart on SQLite', async () => {
  const dataDir = tmpDir('coffer-identity');
  const first = await startDevServer({ dataDir });
  await userpass(first, { grace: ['default'] });
  const { entityId } = await loginAs(first, 'grace');
  const group = (await first.call('POST', 'identity/group', { name: 'g', policies: ['p'], member_entity_ids: [entityId] })).body.data.id as string;
  await first.server.close();

  const second = await startDevServer({ dataDir });
  assert.equal((await loginAs(second, 'grace')).entityId, entityId);
  assert.deepEqual((await second.call('GET', `identity/group/id/${group}`)).body.data.member_entity_ids, [entityId]);
  assert.deepEqual((await second.call('GET', `identity/entity/id/${entityId}`)).body.data.direct_group_ids, [group]);
});

const HVAC_SCRIPT = `
import json, os, hvac
c = hvac.Client(url=os.environ['VAULT_ADDR'], token=os.environ['VAULT_TOKEN'])
idn = c.secrets.identity
out = {}
e = idn.create_or_update_entity(name='hv-user', metadata={'team': 'ml'}, policies=['a'])
eid = e['data']['id']
out['created'] = sorted(e['data'].keys())
out['read_name'] = idn.read_entity(entity_id=eid)['data']['name']
out['by_name'] = idn.read_entity_by_name(name='hv-user')['data']['id'] == eid
idn.update_entity(entity_id=eid, policies=['a', 'b'])
out['policies'] = idn.read_entity(entity_id=eid)['data']['policies']
acc = c.sys.list_auth_methods()['data']['token/']['accessor']
alias = idn.create_or_update_entity_alias(name='hv-alias', canonical_id=eid, mount_accessor=acc)
out['alias_entity'] = alias['data']['canonical_id'] == eid
g = idn.create_or_update_group(name='hv-group', policies=['gp'], member_entity_ids=[eid], metadata={'k': 'v'})
gid = g['data']['id']
out['group_members'] = idn.read_group(group_id=gid)['data']['member_entity_ids'] == [eid]
out['group_by_name'] = idn.read_group_by_name(name='hv-group')['data']['id'] == gid
out['listed'] = eid in idn.list_entities()['data']['keys'] and gid in idn.list_groups(method='GET')['data']['keys']
out['lookup'] = idn.lookup_entity(alias_name='hv-alias', alias_mount_accessor=acc)['data']['id'] == eid
ext = idn.create_or_update_group(name='hv-ext', group_type='external')
ga = idn.create_or_update_group_alias(name='claim', mount_accessor=acc, canonical_id=ext['data']['id'])
out['group_alias'] = idn.read_group_alias(alias_id=ga['data']['id'])['data']['name']
idn.delete_group(group_id=gid)
idn.delete_entity(entity_id=eid)
out['gone'] = idn.lookup_entity(name='hv-user').status_code
print(json.dumps(out))
`;

test('hvac: the identity secrets engine client works unchanged', async (t) => {
  const py = hvacPython();
  if ('skip' in py) {
    t.skip(py.skip);
    return;
  }
  const s = await startDevServer();
  const script = join(tmpDir('coffer-hvac-identity'), 'identity.py');
  writeFileSync(script, HVAC_SCRIPT);
  const out = await runPython(py.python, script, { VAULT_ADDR: s.addr, VAULT_TOKEN: s.rootToken });
  assert.deepEqual(out, {
    created: ['aliases', 'id', 'name'], read_name: 'hv-user', by_name: true, policies: ['a', 'b'], alias_entity: true,
    group_members: true, group_by_name: true, listed: true, lookup: true, group_alias: 'claim', gone: 204,
  });
});

test('external groups are fed from a JWT groups claim at login; old tokens follow at once', async () => {
  const s = await startDevServer();
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const issuer = 'https://ci.example';
  assert.equal((await s.call('POST', 'sys/auth/jwt', { type: 'jwt' })).status, 204);
  const accessor = (await s.call('GET', 'sys/auth')).body.data['jwt/'].accessor as string;
  assert.equal((await s.call('POST', 'auth/jwt/config', { jwt_validation_pubkeys: [await exportSPKI(publicKey)], bound_issuer: issuer })).status, 204);
  assert.equal((await s.call('POST', 'auth/jwt/role/ci', {
    role_type: 'jwt', user_claim: 'sub', bound_audiences: 'coffer', groups_claim: 'groups', token_policies: 'default', token_ttl: '10m',
  })).status, 204);
  await s.call('PUT', 'sys/policies/acl/deploy', { policy: 'path "secret/data/deploy/*" { capabilities = ["read"] }' });
  await s.call('POST', 'secret/data/deploy/key', { data: { k: 1 } });
  const group = (await s.call('POST', 'identity/group', { name: 'deployers', type: 'external', policies: ['deploy'] })).body.data.id as string;
  assert.equal((await s.call('POST', 'identity/group-alias', { name: 'deploy-team', mount_accessor: accessor, canonical_id: group })).status, 200);

  const login = async (groups: string[]) => {
    const now = Math.floor(Date.now() / 1000);
    const jwt = await new SignJWT({ sub: 'repo:acme/api', aud: 'coffer', iss: issuer, iat: now, exp: now + 300, groups })
      .setProtectedHeader({ alg: 'RS256' }).sign(privateKey);
    const r = await s.call('POST', 'auth/jwt/login', { role: 'ci', jwt }, { 'X-Vault-Token': '' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.auth as { client_token: string; entity_id: string; identity_policies: string[] };
  };
  const first = await login(['deploy-team', 'other']);
  assert.deepEqual(first.identity_policies, ['deploy']);
  assert.deepEqual((await s.call('GET', `identity/group/id/${group}`)).body.data.member_entity_ids, [first.entity_id]);
  const read = () => s.call('GET', 'secret/data/deploy/key', undefined, as(first.client_token));
  assert.equal((await read()).status, 200);

  const second = await login(['other']);
  assert.equal(second.entity_id, first.entity_id, 'same subject, same entity');
  assert.deepEqual(second.identity_policies, []);
  assert.equal((await read()).status, 403, 'the claim no longer names the group: the earlier token loses it too');
  assert.deepEqual((await s.call('GET', `identity/group/id/${group}`)).body.data.member_entity_ids, []);
});
