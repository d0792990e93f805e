import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PrefixView } from '../../src/storage/view.js';
import { startDevServer } from '../helpers/server.js';

const s = await startDevServer();
const core = s.server.core;

/** A new root-policy service token (policies are another component's; root keeps these tests about cubbyhole). */
async function newToken(parentId: string | null = null): Promise<{ token: string; id: string; as: Record<string, string> }> {
  const { token, entry } = await core.tokens.create({ parentId, policies: ['root'], displayName: 'cubby-test', ttl: 3600, path: 'auth/token/create' });
  return { token, id: entry.id, as: { 'X-Vault-Token': token } };
}

/** What the cubbyhole mount holds for one token id, read from storage. */
async function storedKeys(tokenId: string): Promise<string[]> {
  const entry = core.secrets.get('cubbyhole/');
  assert.ok(entry);
  return new PrefixView(core.barrier, `logical/${entry.uuid}/`).list(`${tokenId}/`);
}

test('cubbyhole/ is a builtin, local mount that cannot be removed', async () => {
  const entry = core.secrets.get('cubbyhole/');
  assert.equal(entry?.type, 'cubbyhole');
  assert.equal(entry?.local, true);
  await assert.rejects(core.secrets.unmount('cubbyhole/'));
});

test('write, read, list, delete in the caller\'s own cubbyhole', async () => {
  const a = await newToken();
  assert.equal((await s.call('POST', 'cubbyhole/app/key', { value: 'v', n: 1 }, a.as)).status, 204);
  assert.equal((await s.call('PUT', 'cubbyhole/app/other', { value: 'w' }, a.as)).status, 204);
  assert.equal((await s.call('PUT', 'cubbyhole/top', { value: 'x' }, a.as)).status, 204);
  let r = await s.call('GET', 'cubbyhole/app/key', undefined, a.as);
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.data, { value: 'v', n: 1 });
  assert.equal(r.body.lease_duration, 0);
  assert.equal(r.body.mount_type, 'cubbyhole');
  assert.deepEqual((await s.call('LIST', 'cubbyhole/', undefined, a.as)).body.data.keys, ['app/', 'top']);
  assert.deepEqual((await s.call('GET', 'cubbyhole/app?list=true', undefined, a.as)).body.data.keys, ['key', 'other']);

  assert.equal((await s.call('DELETE', 'cubbyhole/app/key', undefined, a.as)).status, 204);
  r = await s.call('GET', 'cubbyhole/app/key', undefined, a.as);
  assert.equal(r.status, 404);
  assert.deepEqual(r.body, { errors: [] });
  assert.deepEqual((await s.call('POST', 'cubbyhole/empty', {}, a.as)).body.errors, ['missing data fields']);
  assert.equal((await s.call('LIST', 'cubbyhole/nothing/', undefined, a.as)).status, 404);
});

test('two tokens never see each other\'s cubbyhole, even at the same path', async () => {
  const a = await newToken();
  const b = await newToken();
  await s.call('POST', 'cubbyhole/shared-name', { owner: 'a' }, a.as);
  assert.equal((await s.call('GET', 'cubbyhole/shared-name', undefined, b.as)).status, 404);
  assert.equal((await s.call('LIST', 'cubbyhole/', undefined, b.as)).status, 404);
  await s.call('POST', 'cubbyhole/shared-name', { owner: 'b' }, b.as);
  assert.deepEqual((await s.call('GET', 'cubbyhole/shared-name', undefined, a.as)).body.data, { owner: 'a' });
  assert.deepEqual((await s.call('GET', 'cubbyhole/shared-name', undefined, b.as)).body.data, { owner: 'b' });
  await s.call('DELETE', 'cubbyhole/shared-name', undefined, b.as);
  assert.deepEqual((await s.call('GET', 'cubbyhole/shared-name', undefined, a.as)).body.data, { owner: 'a' }, 'b deleting its own leaves a\'s');

  // Storage is keyed by the token's salted id, never by the token itself.
  assert.deepEqual(await storedKeys(a.id), ['shared-name']);
  const cubby = core.secrets.get('cubbyhole/');
  const top = await new PrefixView(core.barrier, `logical/${cubby!.uuid}/`).list('');
  assert.ok(top.every((k) => !k.includes(a.token) && !k.includes(b.token)));
});

test('revoking a token purges its cubbyhole, and its children\'s, and nobody else\'s', async () => {
  const parent = await newToken();
  const child = await newToken(parent.id);
  const bystander = await newToken();
  for (const t of [parent, child, bystander]) {
    await s.call('POST', 'cubbyhole/a', { v: 1 }, t.as);
    await s.call('POST', 'cubbyhole/deep/b/c', { v: 2 }, t.as);
    assert.deepEqual(await storedKeys(t.id), ['a', 'deep/']);
  }
  await core.tokens.revokeTree(parent.id);
  assert.deepEqual(await storedKeys(parent.id), []);
  assert.deepEqual(await storedKeys(child.id), []);
  assert.deepEqual(await storedKeys(bystander.id), ['a', 'deep/']);
  assert.equal((await s.call('GET', 'cubbyhole/a', undefined, parent.as)).status, 403, 'the revoked token is gone');
  assert.equal((await s.call('GET', 'cubbyhole/a', undefined, bystander.as)).status, 200);
});

test('batch tokens have no cubbyhole (400)', async (t) => {
  const create = await s.call('POST', 'auth/token/create', { type: 'batch', policies: ['default'], ttl: '10m' });
  const batch: unknown = create.body?.auth?.client_token;
  if (create.status !== 200 || typeof batch !== 'string') {
    t.skip(`batch tokens are not available yet (auth/token/create answered ${create.status})`);
    return;
  }
  const r = await s.call('POST', 'cubbyhole/x', { v: 1 }, { 'X-Vault-Token': batch });
  assert.equal(r.status, 400);
  assert.deepEqual(r.body.errors, ['cubbyhole operations are only supported by "service" type tokens']);
  assert.equal((await s.call('GET', 'cubbyhole/x', undefined, { 'X-Vault-Token': batch })).status, 400);
});
