/**
 * ACL policies through the real HTTP wire: both policy APIs, the built-ins, enforcement on
 * tokens (created directly in the core's token store until the token backend is wired), the
 * capabilities endpoints, changes taking effect on the next request, and persistence in SQLite.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDevServer, type TestServer } from '../helpers/server.js';
import { tmpDir } from '../helpers/tmp.js';

const READER = `
path "sys/key-status" {
  capabilities = ["read"]
}
path "sys/policy/*" {
  capabilities = ["read"]
}
path "sys/policies/acl" {
  capabilities = ["list"]
}
`;

async function tokenWith(s: TestServer, policies: string[]): Promise<{ token: string; accessor: string }> {
  const { token, entry } = await s.server.core.tokens.create({ parentId: null, policies, displayName: 'test', ttl: 3600, path: 'auth/token/create' });
  return { token, accessor: entry.accessor };
}

const as = (token: string) => ({ 'X-Vault-Token': token });

test('policies over HTTP', async (t) => {
  const s = await startDevServer();

  await t.test('sys/policy and sys/policies/acl: write, read, list, delete; names lower-cased', async () => {
    assert.equal((await s.call('PUT', 'sys/policy/Dev-Team', { policy: READER })).status, 204);
    const legacy = await s.call('GET', 'sys/policy/dev-team');
    assert.equal(legacy.status, 200);
    assert.deepEqual(legacy.body.data, { name: 'dev-team', rules: READER });
    assert.equal(legacy.body.rules, READER, 'sys/policy data is also copied to the top level');
    const modern = await s.call('GET', 'sys/policies/acl/DEV-TEAM');
    assert.deepEqual(modern.body.data, { name: 'dev-team', policy: READER });

    const json = JSON.stringify({ path: { 'secret/*': { capabilities: ['read', 'list'] } } });
    assert.equal((await s.call('POST', 'sys/policies/acl/json-pol', { policy: json })).status, 204);
    assert.equal((await s.call('GET', 'sys/policy/json-pol')).body.data.rules, json);

    const deprecated = await s.call('PUT', 'sys/policy/legacy', { rules: 'path "a/*" { policy = "read" }' });
    assert.equal(deprecated.status, 200);
    assert.deepEqual(deprecated.body.warnings, ["'rules' is deprecated, please use 'policy' instead"]);

    const text = 'path "b64/*" { capabilities = ["read"] }';
    assert.equal((await s.call('PUT', 'sys/policies/acl/b64', { policy: Buffer.from(text).toString('base64') })).status, 204);
    assert.equal((await s.call('GET', 'sys/policies/acl/b64')).body.data.policy, text, 'base64 policy text is decoded, as in Vault');

    const listed = await s.call('GET', 'sys/policy');
    assert.deepEqual(listed.body.data.keys, ['b64', 'default', 'dev-team', 'json-pol', 'legacy', 'root']);
    assert.deepEqual(listed.body.data.policies, listed.body.data.keys);
    assert.deepEqual(listed.body.policies, listed.body.data.keys);
    assert.deepEqual((await s.call('LIST', 'sys/policies/acl')).body.data, { keys: listed.body.data.keys });
    assert.deepEqual((await s.call('GET', 'sys/policies/acl?list=true')).body.data, { keys: listed.body.data.keys });
    assert.deepEqual((await s.call('LIST', 'sys/policy')).body.data.keys, listed.body.data.keys);

    assert.equal((await s.call('DELETE', 'sys/policy/Dev-Team')).status, 204);
    const gone = await s.call('GET', 'sys/policy/dev-team');
    assert.equal(gone.status, 404);
    assert.deepEqual(gone.body, { errors: [] });
    assert.equal((await s.call('DELETE', 'sys/policy/dev-team')).status, 204, 'deleting a missing policy is not an error');
    for (const name of ['json-pol', 'legacy', 'b64']) assert.equal((await s.call('DELETE', `sys/policies/acl/${name}`)).status, 204);
    assert.deepEqual((await s.call('GET', 'sys/policy')).body.data.keys, ['default', 'root']);
  });

  await t.test('invalid policies are 400 and name the stanza; nothing is stored', async () => {
    const bad = await s.call('PUT', 'sys/policies/acl/bad', { policy: 'path "secret/foo" {\n  capabilities = ["reed"]\n}' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.errors[0], /path "secret\/foo".*invalid capability "reed"/);
    const glob = await s.call('PUT', 'sys/policy/bad', { policy: 'path "secret/*/x" { capabilities = ["read"] }' });
    assert.equal(glob.status, 400);
    assert.match(glob.body.errors[0], /path "secret\/\*\/x"/);
    assert.equal((await s.call('PUT', 'sys/policy/bad', {})).status, 400);
    assert.equal((await s.call('PUT', 'sys/policy/bad', { policy: 42 })).status, 400);
    assert.equal((await s.call('GET', 'sys/policy/bad')).status, 404);
  });

  await t.test('built-ins: root immutable, default editable but not deletable, response-wrapping fixed', async () => {
    const del = await s.call('DELETE', 'sys/policy/default');
    assert.equal(del.status, 400);
    assert.deepEqual(del.body.errors, ['cannot delete default policy']);
    for (const name of ['root', 'response-wrapping']) {
      const put = await s.call('PUT', `sys/policies/acl/${name}`, { policy: READER });
      assert.equal(put.status, 400);
      assert.deepEqual(put.body.errors, [`cannot update "${name}" policy`]);
      assert.equal((await s.call('DELETE', `sys/policy/${name.toUpperCase()}`)).status, 400);
    }
    assert.deepEqual((await s.call('GET', 'sys/policy/root')).body.data, { name: 'root', rules: '' });
    assert.match((await s.call('GET', 'sys/policies/acl/response-wrapping')).body.data.policy, /path "cubbyhole\/response"/);
    const original = (await s.call('GET', 'sys/policy/default')).body.data.rules as string;
    assert.match(original, /path "sys\/capabilities-self"/);
    assert.equal((await s.call('PUT', 'sys/policy/default', { policy: READER })).status, 204);
    assert.equal((await s.call('GET', 'sys/policy/default')).body.data.rules, READER);
    assert.equal((await s.call('PUT', 'sys/policy/default', { policy: original })).status, 204);
  });

  await t.test('a token gets what its policies allow, and a changed policy applies on the next request', async () => {
    assert.equal((await s.call('PUT', 'sys/policy/reader', { policy: READER })).status, 204);
    const { token } = await tokenWith(s, ['READER', 'default']);
    assert.equal((await s.call('GET', 'sys/key-status', undefined, as(token))).status, 200);
    assert.equal((await s.call('GET', 'sys/policy/default', undefined, as(token))).status, 200);
    assert.equal((await s.call('LIST', 'sys/policies/acl', undefined, as(token))).status, 200);
    assert.equal((await s.call('PUT', 'sys/policy/mine', { policy: READER }, as(token))).status, 403);
    assert.equal((await s.call('DELETE', 'sys/policy/reader', undefined, as(token))).status, 403);
    assert.equal((await s.call('GET', 'sys/mounts', undefined, as(token))).status, 403);

    await s.call('PUT', 'sys/policy/reader', { policy: 'path "sys/policy/*" { capabilities = ["read"] }' });
    assert.equal((await s.call('GET', 'sys/key-status', undefined, as(token))).status, 403, 'the narrowed policy applies at once');
    await s.call('PUT', 'sys/policy/reader', { policy: READER });
    assert.equal((await s.call('GET', 'sys/key-status', undefined, as(token))).status, 200);
    await s.call('PUT', 'sys/policy/reader', { policy: `${READER}\npath "sys/key-status" { capabilities = ["deny"] }` });
    assert.equal((await s.call('GET', 'sys/key-status', undefined, as(token))).status, 403, 'deny wins');
    await s.call('DELETE', 'sys/policy/reader');
    assert.equal((await s.call('GET', 'sys/policy/default', undefined, as(token))).status, 403, 'a deleted policy grants nothing');

    const ghost = await tokenWith(s, ['ghost']);
    assert.equal((await s.call('GET', 'sys/key-status', undefined, as(ghost.token))).status, 403);
  });

  await t.test('sudo paths need the sudo capability', async () => {
    await s.call('PUT', 'sys/policies/acl/rotator', { policy: 'path "sys/rotate" { capabilities = ["update"] }' });
    const { token } = await tokenWith(s, ['rotator']);
    assert.equal((await s.call('PUT', 'sys/rotate', {}, as(token))).status, 403);
    await s.call('PUT', 'sys/policies/acl/rotator', { policy: 'path "sys/rotate" { capabilities = ["update", "sudo"] }' });
    assert.equal((await s.call('PUT', 'sys/rotate', {}, as(token))).status, 204);
  });

  await t.test('parameter constraints see the request body', async () => {
    await s.call('PUT', 'sys/policies/acl/team-admin', { policy: `
path "sys/policies/acl/team-*" {
  capabilities = ["update"]
  required_parameters = ["policy"]
  denied_parameters = {
    "policy" = ["*sudo*"]
  }
}` });
    const { token } = await tokenWith(s, ['team-admin']);
    const ok = 'path "team/a/*" { capabilities = ["read"] }';
    assert.equal((await s.call('PUT', 'sys/policies/acl/team-a', { policy: ok }, as(token))).status, 204);
    assert.equal((await s.call('PUT', 'sys/policies/acl/team-a', { policy: 'path "sys/*" { capabilities = ["sudo"] }' }, as(token))).status, 403);
    assert.equal((await s.call('PUT', 'sys/policies/acl/team-a', {}, as(token))).status, 403, 'policy is required');
    assert.equal((await s.call('PUT', 'sys/policies/acl/other', { policy: ok }, as(token))).status, 403);
  });

  await t.test('sys/capabilities, capabilities-self and capabilities-accessor', async () => {
    await s.call('PUT', 'sys/policy/caps', { policy: 'path "sys/rotate" { capabilities = ["update", "sudo", "read"] }\npath "secret/+/app" { capabilities = ["list"] }' });
    const { token, accessor } = await tokenWith(s, ['caps', 'default']);

    const self = await s.call('POST', 'sys/capabilities-self', { path: 'sys/rotate' }, as(token));
    assert.equal(self.status, 200);
    assert.deepEqual(self.body.data, { 'sys/rotate': ['read', 'sudo', 'update'], capabilities: ['read', 'sudo', 'update'] });
    assert.deepEqual(self.body.capabilities, ['read', 'sudo', 'update']);

    const many = await s.call('PUT', 'sys/capabilities-self', { paths: ['sys/rotate', 'secret/x/app', 'sys/mounts', 'cubbyhole/k'] }, as(token));
    assert.deepEqual(many.body.data, {
      'sys/rotate': ['read', 'sudo', 'update'], 'secret/x/app': ['list'], 'sys/mounts': ['deny'],
      'cubbyhole/k': ['create', 'delete', 'list', 'read', 'update'],
    });
    assert.deepEqual((await s.call('POST', 'sys/capabilities-self', { paths: 'sys/rotate,sys/mounts' }, as(token))).body.data,
      { 'sys/rotate': ['read', 'sudo', 'update'], 'sys/mounts': ['deny'] }, 'comma-separated paths');

    const other = await s.call('POST', 'sys/capabilities', { token, path: 'sys/rotate' });
    assert.deepEqual(other.body.data.capabilities, ['read', 'sudo', 'update']);
    const byAccessor = await s.call('POST', 'sys/capabilities-accessor', { accessor, paths: ['secret/y/app'] });
    assert.deepEqual(byAccessor.body.data, { 'secret/y/app': ['list'], capabilities: ['list'] });
    assert.deepEqual((await s.call('POST', 'sys/capabilities-self', { path: 'anything' })).body.data.capabilities, ['root']);

    const bad = await s.call('POST', 'sys/capabilities', { token: 'cfs.nope', path: 'sys/rotate' });
    assert.deepEqual([bad.status, bad.body.errors], [400, ['invalid token']]);
    assert.equal((await s.call('POST', 'sys/capabilities-accessor', { accessor: 'nope', path: 'x' })).status, 400);
    assert.equal((await s.call('POST', 'sys/capabilities-self', {}, as(token))).status, 400, 'paths must be supplied');
    assert.equal((await s.call('POST', 'sys/capabilities', { token, path: 'x' }, as(token))).status, 403, 'default grants only -self');

    const proto = await s.call('POST', 'sys/capabilities-self', { paths: ['__proto__', 'constructor'] }, as(token));
    assert.deepEqual(proto.body.data, JSON.parse('{"__proto__":["deny"],"constructor":["deny"]}'));
  });
});

test('policies persist in SQLite and survive seal/unseal', async () => {
  const dir = tmpDir('policy-sqlite');
  const first = await startDevServer({ dataDir: dir, rootToken: 'root-test-token' });
  assert.equal((await first.call('PUT', 'sys/policy/keeper', { policy: READER })).status, 204);
  const { token } = await tokenWith(first, ['keeper']);
  await first.server.close();

  const s = await startDevServer({ dataDir: dir, rootToken: 'root-test-token' });
  assert.equal((await s.call('GET', 'sys/policy/keeper')).body.data.rules, READER);
  assert.equal((await s.call('GET', 'sys/key-status', undefined, as(token))).status, 200);

  assert.equal((await s.call('PUT', 'sys/seal')).status, 204);
  assert.equal((await s.call('GET', 'sys/key-status', undefined, as(token))).status, 503);
  const unseal = await s.call('PUT', 'sys/unseal', { key: s.server.dev?.unsealKey });
  assert.equal(unseal.body.sealed, false);
  assert.equal((await s.call('GET', 'sys/key-status', undefined, as(token))).status, 200);
  assert.deepEqual((await s.call('GET', 'sys/policy')).body.data.keys, ['default', 'keeper', 'root']);
});

test('parameter constraints apply on KV v1 and are skipped on every KV v2 mount, however it was mounted', async () => {
  const srv = await startDevServer();
  const rules = 'path "+/data/*" { capabilities = ["create", "update"]\n  denied_parameters = { "data" = [] } }\npath "v1/*" { capabilities = ["create", "update"]\n  denied_parameters = { "password" = [] } }\n';
  assert.equal((await srv.call('PUT', 'sys/policies/acl/params', { policy: rules })).status, 204);
  assert.equal((await srv.call('POST', 'sys/mounts/v1', { type: 'kv', options: { version: '1' } })).status, 204);
  // The kv-v2 type alias, mounted below the HTTP layer, must behave like kv with version 2.
  await srv.server.core.secrets.mount({ path: 'alias/', type: 'kv-v2' });
  const { auth } = (await srv.call('POST', 'auth/token/create', { policies: ['params'] })).body;
  const as = { 'X-Vault-Token': auth.client_token as string };
  assert.equal((await srv.call('POST', 'v1/app', { password: 'x' }, as)).status, 403);
  assert.equal((await srv.call('POST', 'v1/app', { user: 'x' }, as)).status, 204);
  assert.equal((await srv.call('POST', 'secret/data/app', { data: { password: 'x' } }, as)).status, 200);
  assert.equal((await srv.call('POST', 'alias/data/app', { data: { password: 'x' } }, as)).status, 200);
});
