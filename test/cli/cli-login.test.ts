import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startDevServer } from '../helpers/server.js';
import { tmpDir } from '../helpers/tmp.js';
import { coffer, expectExit } from './cli-runner.js';

// `coffer login`, `coffer unwrap`, `coffer path-help` and the generic read/write/list with
// --field and --wrap-ttl, against a real dev server.

test('login with a token: verified, stored in ~/.coffer-token (0600), used by later commands', async () => {
  const s = await startDevServer();
  const child = (await s.call('POST', 'auth/token/create', { policies: ['default'], ttl: '1h', meta: { team: 'web' } })).body.auth;
  const home = tmpDir('coffer-login-home');
  const env = { addr: s.addr, home };

  const out = expectExit(await coffer(['login', child.client_token], env), 0, 'login TOKEN');
  assert.match(out.stdout, /^Success! You are now authenticated\./);
  assert.match(out.stdout, new RegExp(`\\ntoken\\s+${child.client_token.replace('.', '\\.')}\\ntoken_accessor\\s+${child.accessor}\\ntoken_duration\\s+(?:\\d+h)?(?:\\d+m)?(?:\\d+s)?\\ntoken_renewable\\s+true\\ntoken_policies\\s+\\[default\\]\\n`));
  assert.match(out.stdout, /token_meta_team\s+web/);
  const file = join(home, '.coffer-token');
  assert.equal(readFileSync(file, 'utf8'), child.client_token);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const self = expectExit(await coffer(['token', 'lookup', '--format', 'json'], env), 0, 'lookup with the stored token');
  assert.equal((JSON.parse(self.stdout) as { data: { accessor: string } }).data.accessor, child.accessor);

  // `-` reads the token from stdin; a bad token is refused and leaves the stored one alone.
  expectExit(await coffer(['login', '-'], env, `${s.rootToken}\n`), 0, 'login -');
  assert.equal(readFileSync(file, 'utf8'), s.rootToken);
  const bad = await coffer(['login', 'cfs.not-a-real-token-000000000'], env);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^Error authenticating: Error making API request\.[\s\S]*Code: 403/);
  assert.ok(!bad.stderr.includes('cfs.not-a-real-token'), 'the token is not echoed');
  assert.equal(readFileSync(file, 'utf8'), s.rootToken);

  const only = expectExit(await coffer(['login', '--token-only', child.client_token], { addr: s.addr, home: tmpDir('h') }), 0, 'token-only');
  assert.equal(only.stdout, child.client_token);
  const noStoreHome = tmpDir('coffer-nostore');
  const noStore = expectExit(await coffer(['login', '--no-store', '--format', 'json', child.client_token], { addr: s.addr, home: noStoreHome }), 0, 'no-store');
  assert.equal((JSON.parse(noStore.stdout) as { auth: { accessor: string } }).auth.accessor, child.accessor);
  assert.match(noStore.stderr, /not stored/);
  assert.equal(existsSync(join(noStoreHome, '.coffer-token')), false);
  assert.equal((await coffer(['login', '--no-store', '--no-print', 'x'], env)).code, 1);
});

test('login with userpass (password prompted from stdin) and approle; POSTs to auth/<path>/login', async () => {
  const s = await startDevServer();
  assert.equal((await s.call('POST', 'sys/auth/userpass', { type: 'userpass' })).status, 204);
  await s.call('POST', 'auth/userpass/users/alice', { password: 'pw-alice', token_policies: 'default' });
  const home = tmpDir('coffer-up-home');
  const env = { addr: s.addr, home };
  const up = expectExit(await coffer(['login', '--method', 'userpass', 'username=alice'], env, 'pw-alice\n'), 0, 'userpass');
  assert.match(up.stdout, /token_meta_username\s+alice/);
  const stored = readFileSync(join(home, '.coffer-token'), 'utf8');
  assert.equal((await s.call('GET', 'auth/token/lookup-self', undefined, { 'X-Vault-Token': stored })).body.data.meta.username, 'alice');
  const wrong = await coffer(['login', '-method=userpass', 'username=alice', 'password=nope'], env);
  assert.equal(wrong.code, 2);
  assert.equal((await coffer(['login', '--method', 'userpass', 'password=x'], env)).code, 1, 'username is required');

  await s.call('POST', 'sys/auth/ci', { type: 'approle' });
  await s.call('POST', 'auth/ci/role/build', { token_policies: 'default' });
  const roleId = (await s.call('GET', 'auth/ci/role/build/role-id')).body.data.role_id as string;
  const secretId = (await s.call('POST', 'auth/ci/role/build/secret-id')).body.data.secret_id as string;
  const ar = expectExit(await coffer(['login', '--method', 'approle', '--path', 'ci', '--token-only', `role_id=${roleId}`, `secret_id=${secretId}`], env), 0, 'approle');
  assert.match(ar.stdout, /^cfs\./);
});

test('unwrap, path-help, and read/write/list with --field and --wrap-ttl', async () => {
  const s = await startDevServer();
  const env = { addr: s.addr, token: s.rootToken };
  const wrapped = expectExit(await coffer(['token', 'create', '--policy', 'default', '--wrap-ttl', '2m'], env), 0, 'wrapped create');
  assert.match(wrapped.stdout, /wrapping_token_ttl:\s+2m\n/);
  assert.match(wrapped.stdout, /wrapping_token_creation_path:\s+auth\/token\/create\n/);
  assert.match(wrapped.stdout, /wrapped_accessor:\s+\S+\n/);
  const wrapToken = /wrapping_token:\s+(\S+)/.exec(wrapped.stdout)![1]!;
  const un = expectExit(await coffer(['unwrap', wrapToken], env), 0, 'unwrap');
  assert.match(un.stdout, /^Key\s+Value\n---\s+-----\ntoken\s+cfs\.\S+\n/);
  const again = await coffer(['unwrap', wrapToken], env);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /wrapping token is not valid or does not exist/);

  // The wrapping token as COFFER_TOKEN, no argument; and a wrapped write of your own data.
  const w2 = expectExit(await coffer(['write', '--wrap-ttl', '1m', '--field', 'wrapping_token', 'sys/wrapping/wrap', 'pw=s3cret'], env), 0, 'wrap').stdout;
  const mine = expectExit(await coffer(['unwrap', '--field', 'pw'], { addr: s.addr, token: w2 }), 0, 'unwrap self');
  assert.equal(mine.stdout, 's3cret');

  await s.call('POST', 'secret/data/a/b', { data: { x: '1' } });
  const lw = expectExit(await coffer(['list', '--wrap-ttl', '1m', 'secret/metadata/a'], env), 0, 'list wrap table');
  const lwToken = /wrapping_token:\s+(\S+)/.exec(lw.stdout)![1]!;
  assert.equal(expectExit(await coffer(['unwrap', lwToken], env), 0, 'unwrap list').stdout, 'Keys\n----\nb\n');

  assert.equal(expectExit(await coffer(['read', '--field', 'policies', 'auth/token/lookup-self'], env), 0, 'read field').stdout, '[root]');
  assert.equal(expectExit(await coffer(['read', '--format', 'json', '--field', 'policies', 'auth/token/lookup-self'], env), 0, 'json field').stdout, '[\n  "root"\n]');
  const write = expectExit(await coffer(['write', 'auth/token/create', 'policies=default', 'ttl=5m'], env), 0, 'write table');
  assert.match(write.stdout, /token_duration\s+5m\n/);
  assert.match(expectExit(await coffer(['write', '-field=token', 'auth/token/create', 'policies=default'], env), 0, 'write field').stdout, /^cfs\.\S+$/);

  const help = expectExit(await coffer(['path-help', 'secret/data/app'], env), 0, 'path-help');
  assert.match(help.stdout, /^Request:\s+data\/app\nMatching Route:\s+data\/:path\*\n/);
  assert.match(help.stdout, /## PARAMETERS/);
  const unknown = await coffer(['path-help', 'nowhere/x'], env);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /Error retrieving help: Error making API request\.[\s\S]*Code: 404/);
});
