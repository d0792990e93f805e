/**
 * The identity store behind the `identity/` mount and the auth methods' EntityResolver seam:
 * entities made on first login, alias metadata, external groups fed from a login's group names,
 * nested groups and their policies, merges, and that everything survives a reload from storage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { upsertEntityAlias } from '../../src/core/identity/aliases.js';
import { deleteEntity, mergeEntities, upsertEntity } from '../../src/core/identity/entities.js';
import type { AuthMountInfo, MountDirectory } from '../../src/core/identity/env.js';
import { upsertGroupAlias } from '../../src/core/identity/group-aliases.js';
import { deleteGroup, upsertGroup } from '../../src/core/identity/groups.js';
import { lookupEntity } from '../../src/core/identity/lookup.js';
import { IdentityStore } from '../../src/core/identity/store.js';
import { InmemStorage } from '../../src/storage/inmem.js';
import { PrefixView } from '../../src/storage/view.js';
import { CofferError } from '../../src/util/errors.js';

const MOUNTS: Record<string, AuthMountInfo> = {
  auth_userpass_1: { path: 'auth/userpass/', type: 'userpass', local: false },
  auth_jwt_1: { path: 'auth/jwt/', type: 'jwt', local: false },
  auth_local_1: { path: 'auth/local/', type: 'userpass', local: true },
};
const mounts: MountDirectory = { byAccessor: (a) => MOUNTS[a] };

async function open(storage = new InmemStorage()): Promise<{ store: IdentityStore; storage: InmemStorage }> {
  const store = new IdentityStore({ storage: new PrefixView(storage, 'sys/identity/'), mounts });
  await store.load();
  return { store, storage };
}

const login = (name: string, extra: { metadata?: Record<string, string>; groupNames?: string[]; accessor?: string } = {}) => ({
  mountAccessor: extra.accessor ?? 'auth_userpass_1', mountType: 'userpass', name, metadata: extra.metadata ?? {},
  ...(extra.groupNames ? { groupNames: extra.groupNames } : {}),
});

const rejects = (message: RegExp) => (e: unknown): boolean => e instanceof CofferError && e.code === 'invalid_request' && message.test(e.message);

test('first login creates one entity with an alias; later logins find it (also concurrently, any case)', async () => {
  const { store } = await open();
  const results = await Promise.all(Array.from({ length: 20 }, () => store.resolveAlias(login('alice', { metadata: { email: 'a@x' } }))));
  const ids = new Set(results.map((r) => r.entityId));
  assert.equal(ids.size, 1, 'concurrent first logins make one entity');
  const [entityId] = ids;
  const entity = store.env.state.entity(entityId!)!;
  assert.match(entity.name, /^entity_[0-9a-f]{8}$/);
  assert.equal(entity.aliases.length, 1);
  assert.deepEqual(
    { name: entity.aliases[0]!.name, accessor: entity.aliases[0]!.mount_accessor, type: entity.aliases[0]!.mount_type, metadata: entity.aliases[0]!.metadata },
    { name: 'alice', accessor: 'auth_userpass_1', type: 'userpass', metadata: { email: 'a@x' } },
  );
  assert.equal((await store.resolveAlias(login('ALICE', { metadata: { email: 'a@x' } }))).entityId, entityId, 'alias names match case-insensitively');
  // New metadata at login is kept.
  await store.resolveAlias(login('alice', { metadata: { email: 'alice@x' } }));
  assert.deepEqual(store.env.state.entity(entityId!)!.aliases[0]!.metadata, { email: 'alice@x' });
  // Another mount is another alias, and another entity.
  const jwt = await store.resolveAlias(login('alice', { accessor: 'auth_jwt_1' }));
  assert.notEqual(jwt.entityId, entityId);
});

test('a disabled entity cannot log in, and its view says so', async () => {
  const { store } = await open();
  const { entityId } = await store.resolveAlias(login('bob'));
  await store.write((env) => upsertEntity(env, { id: entityId, disabled: true }));
  await assert.rejects(store.resolveAlias(login('bob')), (e: unknown) => e instanceof CofferError && e.code === 'permission_denied');
  assert.equal(store.viewFor(entityId)?.disabled, true);
  await store.write((env) => upsertEntity(env, { id: entityId, disabled: false }));
  assert.equal((await store.resolveAlias(login('bob'))).entityId, entityId);
});

test('external groups: membership follows the login\'s group names on the group alias\'s mount', async () => {
  const { store } = await open();
  const admins = await store.write((env) => upsertGroup(env, { name: 'admins', type: 'external', policies: ['admin'] }));
  const devs = await store.write((env) => upsertGroup(env, { name: 'devs', type: 'external', policies: ['dev'] }));
  await store.write((env) => upsertGroupAlias(env, { name: 'ci-admins', mountAccessor: 'auth_jwt_1', canonicalId: admins.group.id }));
  await store.write((env) => upsertGroupAlias(env, { name: 'ci-devs', mountAccessor: 'auth_jwt_1', canonicalId: devs.group.id }));
  const jwt = (groupNames?: string[]) => store.resolveAlias(login('repo:app', { accessor: 'auth_jwt_1', ...(groupNames ? { groupNames } : {}) }));

  const first = await jwt(['ci-admins', 'unknown-group']);
  assert.deepEqual(first.identityPolicies, ['admin'], 'the login answer carries the identity policies');
  assert.deepEqual(store.viewFor(first.entityId)?.groups.map((g) => g.name), ['admins']);
  await jwt(['ci-devs']);
  assert.deepEqual(store.viewFor(first.entityId)?.policies, ['dev'], 'left admins, joined devs');
  await jwt();
  assert.deepEqual(store.viewFor(first.entityId)?.policies, ['dev'], 'a login without group names leaves memberships alone');
  await jwt([]);
  assert.deepEqual(store.viewFor(first.entityId)?.policies, [], 'an empty claim leaves every external group of the mount');
  // Group names from another mount do not count.
  await store.resolveAlias(login('repo:app', { groupNames: ['ci-admins'] }));
  assert.deepEqual(store.env.state.group(admins.group.id)?.member_entity_ids, []);

  // External groups take no manual members; aliases go only on external groups, not on local mounts.
  assert.throws(() => upsertGroup(store.env, { id: admins.group.id, memberEntityIds: [first.entityId] }), rejects(/can't be set manually for external groups/));
  const internal = await store.write((env) => upsertGroup(env, { name: 'plain' }));
  assert.throws(() => upsertGroupAlias(store.env, { name: 'x', mountAccessor: 'auth_jwt_1', canonicalId: internal.group.id }), rejects(/can't be set on an internal group/));
  assert.throws(() => upsertGroupAlias(store.env, { name: 'x', mountAccessor: 'auth_local_1' }), rejects(/is a local mount/));
  assert.throws(() => upsertGroupAlias(store.env, { name: 'ci-devs', mountAccessor: 'auth_jwt_1' }), rejects(/already in use/));
});

test('nested groups: policies are inherited upward, direct and inherited groups are told apart, cycles refused', async () => {
  const { store } = await open();
  const { entityId } = await store.resolveAlias(login('carol'));
  const inner = await store.write((env) => upsertGroup(env, { name: 'inner', policies: ['p-inner'], memberEntityIds: [entityId] }));
  const middle = await store.write((env) => upsertGroup(env, { name: 'middle', policies: ['p-middle'], memberGroupIds: [inner.group.id] }));
  const outer = await store.write((env) => upsertGroup(env, { name: 'outer', policies: ['p-outer', 'p-inner'], memberGroupIds: [middle.group.id] }));
  const view = store.viewFor(entityId)!;
  assert.deepEqual(view.policies, ['p-inner', 'p-middle', 'p-outer']);
  assert.deepEqual(view.groups.map((g) => g.name), ['inner', 'middle', 'outer']);

  assert.throws(() => upsertGroup(store.env, { id: inner.group.id, memberGroupIds: [outer.group.id] }), rejects(/cyclic relationship detected for member group ID/));
  assert.throws(() => upsertGroup(store.env, { id: inner.group.id, memberGroupIds: [inner.group.id] }), rejects(/is same as the ID of the group/));
  assert.throws(() => upsertGroup(store.env, { name: 'x', memberGroupIds: ['nope'] }), rejects(/invalid member group ID "nope"/));
  assert.throws(() => upsertGroup(store.env, { name: 'x', memberEntityIds: ['nope'] }), rejects(/invalid member entity ID "nope"/));
  assert.throws(() => upsertGroup(store.env, { name: 'inner' }), rejects(/group name is already in use/));
  assert.throws(() => upsertGroup(store.env, { name: 'y', policies: ['Root'] }), rejects(/policies cannot contain root/));
  assert.throws(() => upsertGroup(store.env, { id: inner.group.id, type: 'external' }), rejects(/group type cannot be changed/));

  // Deleting the middle group cuts the chain; the view changes with the next read.
  await store.write((env) => deleteGroup(env, { name: 'middle' }));
  assert.deepEqual(store.viewFor(entityId)!.policies, ['p-inner']);
  assert.deepEqual(store.env.state.group(outer.group.id)?.member_group_ids, [], 'the parent forgets the deleted member');
});

test('entity aliases: one per mount per entity, unique per mount, movable between entities', async () => {
  const { store } = await open();
  const a = await store.write((env) => upsertEntity(env, { name: 'a' }));
  const b = await store.write((env) => upsertEntity(env, { name: 'b' }));
  const alias = await store.write((env) => upsertEntityAlias(env, { name: 'dave', mountAccessor: 'auth_userpass_1', canonicalId: a.entity.id }));
  assert.deepEqual(alias, { id: alias!.id, canonical_id: a.entity.id });
  assert.throws(() => upsertEntityAlias(store.env, { name: 'other', mountAccessor: 'auth_userpass_1', canonicalId: a.entity.id }), rejects(/Alias already exists for requested entity and mount accessor/));
  assert.throws(() => upsertEntityAlias(store.env, { name: 'x', mountAccessor: 'nope' }), rejects(/invalid mount accessor "nope"/));
  assert.throws(() => upsertEntityAlias(store.env, { name: 'x' }), rejects(/'id' or 'mount_accessor' and 'name' must be provided/));
  assert.equal(await store.write((env) => upsertEntityAlias(env, { id: alias!.id })), undefined, 'no change: nothing to do');
  // Move it to b: a login as dave now resolves to b.
  await store.write((env) => upsertEntityAlias(env, { id: alias!.id, canonicalId: b.entity.id }));
  assert.equal((await store.resolveAlias(login('dave'))).entityId, b.entity.id);
  assert.equal(store.env.state.entity(a.entity.id)!.aliases.length, 0);
  // Without canonical_id a new entity is made for a new alias.
  const fresh = await store.write((env) => upsertEntityAlias(env, { name: 'erin', mountAccessor: 'auth_userpass_1' }));
  assert.ok(store.env.state.entity(fresh!.canonical_id));
});

test('entities: names are unique, root is refused, delete leaves groups, lookups find by every key', async () => {
  const { store } = await open();
  const e = await store.write((env) => upsertEntity(env, { name: 'frank', metadata: { team: 'ml' }, policies: ['a', 'a', ' b '] }));
  assert.equal(e.created, true);
  assert.deepEqual(e.entity.policies, ['a', 'b']);
  const again = await store.write((env) => upsertEntity(env, { name: 'FRANK', policies: ['c'] }));
  assert.equal(again.created, false, 'a create naming an existing entity updates it (names are case-insensitive)');
  assert.deepEqual(again.entity.metadata, { team: 'ml' }, 'fields not given are kept');
  const other = await store.write((env) => upsertEntity(env, { name: 'grace' }));
  assert.throws(() => upsertEntity(store.env, { id: other.entity.id, name: 'frank' }), rejects(/entity name is already in use/));
  assert.throws(() => upsertEntity(store.env, { id: 'missing' }), rejects(/entity not found from id/));
  assert.throws(() => upsertEntity(store.env, { name: 'h', policies: ['root'] }), rejects(/policies cannot contain root/));
  assert.throws(() => upsertEntity(store.env, { name: 'a/b' }), rejects(/invalid entity name/));

  const alias = await store.write((env) => upsertEntityAlias(env, { name: 'frank', mountAccessor: 'auth_userpass_1', canonicalId: e.entity.id }));
  assert.equal(lookupEntity(store.env, { name: 'frank' })?.id, e.entity.id);
  assert.equal(lookupEntity(store.env, { id: e.entity.id })?.id, e.entity.id);
  assert.equal(lookupEntity(store.env, { aliasId: alias!.id })?.id, e.entity.id);
  assert.equal(lookupEntity(store.env, { aliasName: 'frank', aliasMountAccessor: 'auth_userpass_1' })?.id, e.entity.id);
  assert.equal(lookupEntity(store.env, { name: 'nobody' }), undefined);
  assert.throws(() => lookupEntity(store.env, {}), rejects(/query parameter not supplied/));
  assert.throws(() => lookupEntity(store.env, { name: 'x', id: 'y' }), rejects(/query parameter conflict/));
  assert.throws(() => lookupEntity(store.env, { aliasName: 'frank' }), rejects(/both 'alias_name' and 'alias_mount_accessor' needs to be set/));

  const g = await store.write((env) => upsertGroup(env, { name: 'g', memberEntityIds: [e.entity.id, other.entity.id] }));
  await store.write((env) => deleteEntity(env, e.entity.id));
  assert.deepEqual(store.env.state.group(g.group.id)?.member_entity_ids, [other.entity.id]);
  assert.equal(store.env.state.entityAliasByFactors('auth_userpass_1', 'frank'), undefined, 'its aliases go with it');
  assert.equal(store.viewFor(e.entity.id), undefined, 'a token naming a deleted entity has no identity');
});

test('merge moves aliases and memberships; tokens naming the merged entity act as the target', async () => {
  const { store } = await open();
  const from = (await store.resolveAlias(login('heidi'))).entityId;
  const to = (await store.resolveAlias(login('heidi', { accessor: 'auth_jwt_1' }))).entityId;
  const g = await store.write((env) => upsertGroup(env, { name: 'g', policies: ['gp'], memberEntityIds: [from] }));
  await store.write((env) => mergeEntities(env, { toEntityId: to, fromEntityIds: [from], conflictingAliasIdsToKeep: [] }));
  assert.equal(store.env.state.entity(to)!.aliases.length, 2);
  assert.deepEqual(store.env.state.entity(to)!.merged_entity_ids, [from]);
  assert.equal((await store.resolveAlias(login('heidi'))).entityId, to);
  assert.equal(store.viewFor(from)?.entityId, to, 'the old id resolves to the target');
  assert.deepEqual(store.viewFor(from)?.policies, ['gp']);
  assert.deepEqual(store.env.state.group(g.group.id)?.member_entity_ids, [to]);

  // Two entities with an alias on the same mount: refused unless told which alias to keep.
  const x = (await store.resolveAlias(login('ivan'))).entityId;
  const y = await store.write((env) => upsertEntity(env, { name: 'y' }));
  const yAlias = await store.write((env) => upsertEntityAlias(env, { name: 'ivan2', mountAccessor: 'auth_userpass_1', canonicalId: y.entity.id }));
  assert.throws(() => mergeEntities(store.env, { toEntityId: y.entity.id, fromEntityIds: [x], conflictingAliasIdsToKeep: [] }), rejects(/same mount accessor/));
  assert.throws(() => mergeEntities(store.env, { toEntityId: x, fromEntityIds: [x], conflictingAliasIdsToKeep: [] }), rejects(/should not be present in from_entity_ids/));
  await store.write((env) => mergeEntities(env, { toEntityId: y.entity.id, fromEntityIds: [x], conflictingAliasIdsToKeep: [yAlias!.id] }));
  assert.deepEqual(store.env.state.entity(y.entity.id)!.aliases.map((a) => a.name), ['ivan2']);
  assert.equal(store.env.state.entityAliasByFactors('auth_userpass_1', 'ivan'), undefined, 'the other alias is dropped');
});

test('everything survives a reload from storage; a sealed store refuses', async () => {
  const { store, storage } = await open();
  const { entityId } = await store.resolveAlias(login('judy', { metadata: { k: 'v' } }));
  const ext = await store.write((env) => upsertGroup(env, { name: 'ext', type: 'external', policies: ['e'] }));
  await store.write((env) => upsertGroupAlias(env, { name: 'claim', mountAccessor: 'auth_userpass_1', canonicalId: ext.group.id }));
  await store.resolveAlias(login('judy', { metadata: { k: 'v' }, groupNames: ['claim'] }));
  await store.write((env) => upsertGroup(env, { name: 'int', policies: ['i'], memberEntityIds: [entityId] }));

  const { store: reopened } = await open(storage);
  assert.deepEqual(reopened.viewFor(entityId)?.policies, ['e', 'i']);
  assert.equal((await reopened.resolveAlias(login('judy'))).entityId, entityId);
  assert.equal(reopened.env.state.groupAliasByFactors('auth_userpass_1', 'claim')?.group.id, ext.group.id);
  // The records live under the namespace prefix of the identity view.
  assert.ok((await storage.list('sys/identity/root/entity/')).length >= 1);

  reopened.unload();
  assert.throws(() => reopened.viewFor(entityId), (e: unknown) => e instanceof CofferError && e.code === 'sealed');
  await assert.rejects(reopened.resolveAlias(login('judy')), (e: unknown) => e instanceof CofferError && e.code === 'sealed');
});
