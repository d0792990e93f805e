import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startDevServer, type TestServer } from '../helpers/server.js';

const s = await startDevServer();

async function tokenWith(server: TestServer, name: string, hcl: string): Promise<string> {
  assert.equal((await server.call('PUT', `sys/policy/${name}`, { policy: hcl })).status, 204);
  const t = await server.call('POST', 'auth/token/create', { policies: [name] });
  assert.equal(t.status, 200, JSON.stringify(t.body));
  return t.body.auth.client_token;
}

test('sys/internal/specs/openapi documents every mounted backend from its declared paths', async () => {
  assert.equal((await s.call('POST', 'sys/mounts/docs-kv1', { type: 'kv', options: { version: '1' } })).status, 204);
  const res = await s.call('GET', 'sys/internal/specs/openapi');
  assert.equal(res.status, 200);
  const doc = res.body;
  assert.equal(doc.openapi, '3.0.2');
  assert.equal(doc.request_id, undefined, 'the document itself, not an envelope');
  assert.equal(typeof doc.info.version, 'string');

  const tune = doc.paths['/sys/mounts/{path}/tune'];
  assert.ok(tune, 'rest parameter followed by a literal');
  assert.deepEqual(tune.parameters.map((p: { name: string; in: string; required: boolean }) => [p.name, p.in, p.required]), [['path', 'path', true]]);
  assert.ok(tune.get && tune.post);
  const tuneBody = tune.post.requestBody.content['application/json'].schema;
  assert.equal(tuneBody.properties.default_lease_ttl.format, 'duration');
  assert.ok(tuneBody.properties.listing_visibility.enum.includes('unauth'));
  assert.deepEqual(tuneBody.properties.audit_non_hmac_request_keys, { type: 'array', items: { type: 'string' }, nullable: true });
  assert.equal(tuneBody.properties.path, undefined, 'path parameters are not body fields');

  const mount = doc.paths['/sys/mounts/{path}'];
  assert.ok(mount.get && mount.post && mount.delete);
  const mountBody = mount.post.requestBody.content['application/json'].schema.properties;
  assert.equal(mountBody.type.type, 'string');
  assert.equal(mountBody.local.type, 'boolean');
  assert.equal(mountBody.config.properties.max_lease_ttl.format, 'duration');
  assert.equal(mount.delete.responses['204'].description, 'empty body');

  assert.equal(doc.paths['/sys/remount']['x-vault-sudo'], true);
  assert.equal(doc.paths['/sys/wrapping/lookup']['x-vault-unauthenticated'], true);
  assert.ok(doc.paths['/sys/wrapping/unwrap'].post);
  assert.ok(doc.paths['/auth/token/create'].post, 'auth mounts under auth/');
  assert.ok(doc.paths['/secret/data/{path}'], 'kv v2 paths under their mount');
  assert.ok(doc.paths['/docs-kv1/{path}'], 'every mount, with its own prefix');
  const list = doc.paths['/docs-kv1/{path}/'];
  assert.ok(list?.get, 'LIST as GET ?list=true on the folder path');
  assert.deepEqual(list.get.parameters[0], { name: 'list', in: 'query', required: true, description: 'Must be set to `true`', schema: { type: 'string', enum: ['true'] } });

  const ids = Object.values(doc.paths).flatMap((item: any) => ['get', 'post', 'patch', 'delete'].filter((m) => item[m]).map((m) => item[m].operationId));
  assert.equal(new Set(ids).size, ids.length, 'operation ids are unique');
});

test('the OpenAPI document only shows mounts the caller can reach; none without a token', async () => {
  assert.equal((await s.call('POST', 'sys/mounts/private-docs', { type: 'kv' })).status, 204);
  const t = await tokenWith(s, 'docs-reader', 'path "secret/*" { capabilities = ["read"] }');
  const limited = (await s.call('GET', 'sys/internal/specs/openapi', undefined, { 'X-Vault-Token': t })).body.paths;
  assert.ok(limited['/secret/data/{path}']);
  assert.ok(!Object.keys(limited).some((p) => p.startsWith('/private-docs/')));
  assert.ok(Object.keys((await s.call('GET', 'sys/internal/specs/openapi')).body.paths).some((p) => p.startsWith('/private-docs/')));
  const anon = await s.call('GET', 'sys/internal/specs/openapi', undefined, { 'X-Vault-Token': '' });
  assert.equal(anon.status, 200);
  assert.deepEqual(anon.body.paths, {});
});

test('?help=1 answers with the path\'s help and its OpenAPI, not the operation', async () => {
  const res = await s.call('GET', 'sys/mounts/secret/tune?help=1');
  assert.equal(res.status, 200);
  assert.deepEqual(Object.keys(res.body).sort(), ['help', 'openapi']);
  assert.match(res.body.help, /^Request: {8}mounts\/secret\/tune\nMatching Route: mounts\/:path\*\/tune\n/);
  assert.match(res.body.help, /## PARAMETERS/);
  assert.match(res.body.help, /default_lease_ttl \(duration/);
  assert.deepEqual(Object.keys(res.body.openapi.paths), ['/sys/mounts/{path}/tune']);

  // Any method: a POST with ?help changes nothing.
  const post = await s.call('POST', 'sys/mounts/not-created?help=1', { type: 'kv' });
  assert.equal(post.status, 200);
  assert.match(post.body.help, /Matching Route: mounts\/:path\*/);
  assert.equal((await s.call('GET', 'sys/mounts')).body.data['not-created/'], undefined);

  // The mount itself: the list of its paths.
  const root = await s.call('GET', 'secret/?help=1');
  assert.equal(root.status, 200);
  assert.match(root.body.help, /## PATHS/);
  assert.match(root.body.help, /data\/:path\*/);
  assert.ok(root.body.openapi.paths['/secret/data/{path}']);

  assert.equal((await s.call('GET', 'no-such-mount/x?help=1')).status, 404);
  assert.equal((await s.call('GET', 'sys/no-such-path?help=1')).status, 404);
});

test('help needs a valid token but no capability, except on sudo paths (as Vault)', async () => {
  const t = await tokenWith(s, 'helpless', 'path "nothing/*" { capabilities = ["read"] }');
  const as = { 'X-Vault-Token': t };
  assert.equal((await s.call('GET', 'sys/mounts', undefined, as)).status, 403);
  assert.equal((await s.call('GET', 'sys/mounts?help=1', undefined, as)).status, 200);
  assert.equal((await s.call('GET', 'secret/data/x?help=1', undefined, as)).status, 200);
  assert.equal((await s.call('GET', 'sys/remount?help=1', undefined, as)).status, 403);
  assert.equal((await s.call('GET', 'sys/remount?help=1')).status, 200, 'root has sudo');
  assert.equal((await s.call('GET', 'sys/mounts?help=1', undefined, { 'X-Vault-Token': '' })).status, 403);
  assert.equal((await s.call('GET', 'sys/mounts?help=1', undefined, { 'X-Vault-Token': 'cfs.bogus' })).status, 403);
  // Unauthenticated paths answer help without a token.
  const open = await s.call('GET', 'sys/wrapping/lookup?help=1', undefined, { 'X-Vault-Token': '' });
  assert.equal(open.status, 200);
  assert.match(open.body.help, /no token needed/);
});
