import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startFakeVault } from '../helpers/fake-vault.js';
import { startDevServer } from '../helpers/server.js';
import { tmpDir } from '../helpers/tmp.js';
import { coffer, expectExit } from './cli-runner.js';

// `coffer token create|lookup|renew|revoke|capabilities`, against a real dev server, and a
// login to a JWT mount at a custom path (against a stand-in server).

test('token create with every flag; lookup, renew, capabilities, revoke (token, accessor, orphan, self)', async () => {
  const s = await startDevServer();
  const env = { addr: s.addr, token: s.rootToken };
  await s.call('PUT', 'sys/policies/acl/app', { policy: 'path "secret/data/app/*" { capabilities = ["read"] }' });
  const created = expectExit(await coffer([
    'token', 'create', '--policy', 'app', '-policy=default', '--ttl', '1h', '--explicit-max-ttl', '2h', '--display-name', 'ci',
    '--use-limit', '50', '--metadata', 'team=web', '--metadata', 'env=dev', '--renewable=false', '--format', 'json',
  ], env), 0, 'token create');
  const auth = (JSON.parse(created.stdout) as { auth: { client_token: string; accessor: string } }).auth;
  const looked = (await s.call('POST', 'auth/token/lookup', { token: auth.client_token })).body.data;
  assert.deepEqual(looked.policies, ['app', 'default']);
  assert.deepEqual([looked.creation_ttl, looked.explicit_max_ttl, looked.num_uses, looked.renewable], [3600, 7200, 50, false]);
  assert.deepEqual(looked.meta, { team: 'web', env: 'dev' });
  assert.equal(looked.display_name, 'token-ci');

  const table = expectExit(await coffer(['token', 'create', '--policy', 'app', '--no-default-policy', '--ttl', '30m'], env), 0, 'table');
  assert.match(table.stdout, /^Key\s+Value\n---\s+-----\ntoken\s+cfs\.\S+\ntoken_accessor\s+\S+\ntoken_duration\s+30m\ntoken_renewable\s+true\ntoken_policies\s+\[app\]\nidentity_policies\s+\[\]\npolicies\s+\[app\]\n$/);
  const batch = expectExit(await coffer(['token', 'create', '--type', 'batch', '--orphan', '--policy', 'app', '--field', 'token'], env), 0, 'batch');
  assert.match(batch.stdout, /^cfb\./);

  const lookup = expectExit(await coffer(['token', 'lookup', auth.client_token], env), 0, 'lookup TOKEN');
  assert.match(lookup.stdout, /\ncreation_ttl\s+1h\n/);
  assert.match(lookup.stdout, /\nexplicit_max_ttl\s+2h\n/);
  assert.match(lookup.stdout, /\nentity_id\s+n\/a\n/);
  assert.match(lookup.stdout, /\nttl\s+(59m\d+s|1h)\n/);
  const byAccessor = expectExit(await coffer(['token', 'lookup', '--accessor', auth.accessor, '--format', 'json'], env), 0, 'lookup accessor');
  assert.equal((JSON.parse(byAccessor.stdout) as { data: { id: string } }).data.id, '');
  assert.equal((await coffer(['token', 'lookup', '--accessor'], env)).code, 1);

  const renewable = (await s.call('POST', 'auth/token/create', { policies: ['app'], ttl: '10m' })).body.auth;
  const renewed = expectExit(await coffer(['token', 'renew', '--increment', '1h', renewable.client_token], env), 0, 'renew');
  assert.match(renewed.stdout, /token_duration\s+1h\n/);
  assert.equal((await coffer(['token', 'renew', auth.client_token], env)).code, 2, 'not renewable');
  expectExit(await coffer(['token', 'renew', '--accessor', renewable.accessor], env), 0, 'renew accessor');
  const selfRenew = expectExit(await coffer(['token', 'renew', '--increment', '20m'], { addr: s.addr, token: renewable.client_token }), 0, 'renew-self');
  assert.match(selfRenew.stdout, /token_duration\s+20m\n/);

  assert.equal(expectExit(await coffer(['token', 'capabilities', 'secret/data/app/x'], { addr: s.addr, token: renewable.client_token }), 0, 'caps self').stdout, 'read\n');
  const caps = expectExit(await coffer(['token', 'capabilities', renewable.client_token, 'secret/data/app/x', 'secret/data/other'], env), 0, 'caps');
  assert.equal(caps.stdout, 'Path                 Capabilities\n----                 ------------\nsecret/data/app/x    read\nsecret/data/other    deny\n');
  const capsJson = expectExit(await coffer(['token', 'capabilities', '--accessor', '--format', 'json', renewable.accessor, 'secret/data/app/x'], env), 0, 'caps accessor');
  assert.deepEqual(JSON.parse(capsJson.stdout), ['read']);

  // Revocation: by token (with children), orphan mode (children survive), accessor, self.
  await s.call('PUT', 'sys/policies/acl/creator', { policy: 'path "auth/token/create" { capabilities = ["update"] }' });
  const parent = (await s.call('POST', 'auth/token/create', { policies: ['app', 'creator'] })).body.auth.client_token as string;
  const kid = (await s.call('POST', 'auth/token/create', { policies: ['app'] }, { 'X-Vault-Token': parent })).body.auth.client_token as string;
  assert.equal(expectExit(await coffer(['token', 'revoke', '--mode', 'orphan', parent], env), 0, 'orphan').stdout, 'Success! Revoked token (if it existed)\n');
  assert.equal((await s.call('GET', 'auth/token/lookup-self', undefined, { 'X-Vault-Token': kid })).status, 200, 'the child survives');
  expectExit(await coffer(['token', 'revoke', kid], env), 0, 'revoke');
  assert.equal((await s.call('GET', 'auth/token/lookup-self', undefined, { 'X-Vault-Token': kid })).status, 403);
  expectExit(await coffer(['token', 'revoke', '--accessor', auth.accessor], env), 0, 'revoke accessor');
  assert.equal((await s.call('POST', 'auth/token/lookup', { token: auth.client_token })).status, 403);
  expectExit(await coffer(['token', 'revoke', '-self'], { addr: s.addr, token: renewable.client_token }), 0, 'revoke self');
  assert.equal((await s.call('POST', 'auth/token/lookup', { token: renewable.client_token })).status, 403);
  for (const args of [['token', 'revoke'], ['token', 'revoke', '--self', 'x'], ['token', 'revoke', '--accessor', '--mode', 'orphan', 'x'], ['token', 'create', 'extra']]) {
    assert.equal((await coffer(args, env)).code, 1, args.join(' '));
  }
});

test('login --method jwt --path: the credentials go to auth/<path>/login without a token', async () => {
  const fake = await startFakeVault({
    'POST /v1/auth/jwt-prod/login': {
      status: 200,
      body: { request_id: 'r', lease_id: '', renewable: false, lease_duration: 0, data: null, wrap_info: null, warnings: null,
        auth: { client_token: 'cfs.from-jwt-login-000000000', accessor: 'acc', policies: ['default'], token_policies: ['default'], metadata: { role: 'dev' }, lease_duration: 60, renewable: true } },
    },
  });
  const home = tmpDir('coffer-jwt-home');
  const r = expectExit(await coffer(['login', '--method', 'jwt', '--path', 'jwt-prod', 'role=dev', 'jwt=eyJ.x.y'], { addr: fake.address, token: 'ambient-token', home }), 0, 'jwt');
  assert.match(r.stdout, /token\s+cfs\.from-jwt-login-000000000/);
  assert.deepEqual(fake.requests[0]?.body, { role: 'dev', jwt: 'eyJ.x.y' });
  assert.equal(fake.requests[0]?.headers['x-vault-token'], undefined, 'a login does not send the ambient token');
  assert.equal(readFileSync(join(home, '.coffer-token'), 'utf8'), 'cfs.from-jwt-login-000000000');
  assert.match(r.stderr, /COFFER_TOKEN environment variable is set/);
});
