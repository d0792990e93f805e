import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatPolicy } from '../../src/cli/commands/hcl-format.js';
import { startDevServer } from '../helpers/server.js';
import { tmpDir } from '../helpers/tmp.js';
import { coffer, expectExit } from './cli-runner.js';

// `coffer policy ...`, `coffer secrets ...`, `coffer auth ...` against a real dev server.

const MESSY = `# Team A may read its secrets.
path "secret/data/team-a/*" {
capabilities=["read","list"]   # no writes
    min_wrapping_ttl = "1s"
max_wrapping_ttl="90s"
}
path "secret/data/shared" {
  capabilities = [
    "create", # new keys only
    "read"
  ]
  allowed_parameters = {
  "bar" = ["zip", "zap"]
      "*"   = []
  }


  // and nothing else
  required_parameters = ["bar"]
}
`;

const TIDY = `# Team A may read its secrets.
path "secret/data/team-a/*" {
  capabilities     = ["read", "list"] # no writes
  min_wrapping_ttl = "1s"
  max_wrapping_ttl = "90s"
}

path "secret/data/shared" {
  capabilities = [
    "create", # new keys only
    "read",
  ]

  allowed_parameters = {
    "bar" = ["zip", "zap"]
    "*"   = []
  }

  // and nothing else
  required_parameters = ["bar"]
}
`;

test('policy fmt: canonical layout in place, comments kept, idempotent; syntax errors leave the file alone', async () => {
  const dir = tmpDir('coffer-fmt');
  const file = join(dir, 'team-a.hcl');
  writeFileSync(file, MESSY);
  const env = { addr: 'http://127.0.0.1:9' }; // fmt is local: no server needed
  assert.equal(expectExit(await coffer(['policy', 'fmt', file], env), 0, 'fmt').stdout, `Success! Formatted policy: ${file}\n`);
  assert.equal(readFileSync(file, 'utf8'), TIDY);
  expectExit(await coffer(['policy', 'fmt', file], env), 0, 'fmt again');
  assert.equal(readFileSync(file, 'utf8'), TIDY, 'idempotent');

  const broken = join(dir, 'broken.hcl');
  writeFileSync(broken, 'path "a" {\n  capabilities = ["read"\n}\n');
  const r = await coffer(['policy', 'fmt', broken], env);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Error parsing policy .*broken\.hcl: line 3: expected , or \]/);
  assert.equal(readFileSync(broken, 'utf8'), 'path "a" {\n  capabilities = ["read"\n}\n');
  assert.equal((await coffer(['policy', 'fmt', join(dir, 'missing.hcl')], env)).code, 1);

  // The pure formatter on the other shapes Vault's docs use: JSON, heredocs, empty blocks, top-level checks.
  assert.equal(formatPolicy('{"path":{"a/*":{"capabilities":["read"]}}}'), '{\n  "path": {\n    "a/*": {\n      "capabilities": [\n        "read"\n      ]\n    }\n  }\n}\n');
  assert.equal(formatPolicy('path "a" {}\npath "b" {\n}'), 'path "a" {}\n\npath "b" {}\n');
  assert.equal(formatPolicy('path "x" { policy = "read" }'), 'path "x" {\n  policy = "read"\n}\n');
  assert.throws(() => formatPolicy('capabilities = ["read"]'), /expected path "<path>"/);
  assert.throws(() => formatPolicy('path "a" { x = "unterminated }'), /unterminated string/);
  for (const text of [MESSY, TIDY, '/* block */\npath "a" {\n  capabilities = [] // none\n}\n']) {
    assert.equal(formatPolicy(formatPolicy(text)), formatPolicy(text));
  }
});

test('policy write (file and stdin), read, list, delete; errors exit 2', async () => {
  const s = await startDevServer();
  const env = { addr: s.addr, token: s.rootToken };
  const file = join(tmpDir('coffer-pol'), 'app.hcl');
  writeFileSync(file, 'path "secret/data/app/*" {\n  capabilities = ["read"]\n}\n');
  const w = expectExit(await coffer(['policy', 'write', 'App-Read', file], env), 0, 'write file');
  assert.equal(w.stdout, 'Success! Uploaded policy: app-read\n');
  assert.match(w.stderr, /Policy name was converted from "App-Read" to "app-read"/);
  expectExit(await coffer(['policy', 'write', 'ops', '-'], env, '{"path":{"sys/*":{"capabilities":["read"]}}}'), 0, 'write stdin');
  const [read, json, list, listJson] = await Promise.all([
    coffer(['policy', 'read', 'app-read'], env),
    coffer(['policy', 'read', '--format', 'json', 'ops'], env),
    coffer(['policy', 'list'], env),
    coffer(['policy', 'list', '--format', 'json'], env),
  ]);
  assert.equal(expectExit(read, 0, 'read').stdout, 'path "secret/data/app/*" {\n  capabilities = ["read"]\n}\n');
  assert.deepEqual(JSON.parse(expectExit(json, 0, 'read json').stdout), { policy: '{"path":{"sys/*":{"capabilities":["read"]}}}' });
  assert.equal(expectExit(list, 0, 'list').stdout, 'app-read\ndefault\nops\nroot\n');
  assert.deepEqual(JSON.parse(expectExit(listJson, 0, 'list json').stdout), ['app-read', 'default', 'ops', 'root']);

  assert.equal(expectExit(await coffer(['policy', 'delete', 'ops'], env), 0, 'delete').stdout, 'Success! Deleted policy: ops\n');
  const [missing, invalid, noFile, undeletable] = await Promise.all([
    coffer(['policy', 'read', 'ops'], env),
    coffer(['policy', 'write', 'bad', '-'], env, 'path "x" { capabilities = ["reed"] }'),
    coffer(['policy', 'write', 'bad', '/nonexistent.hcl'], env),
    coffer(['policy', 'delete', 'default'], env),
  ]);
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr, 'No policy named: ops\n');
  assert.equal(invalid.code, 2);
  assert.match(invalid.stderr, /^Error uploading policy: Error making API request\.[\s\S]*invalid capability "reed"/);
  assert.equal(noFile.code, 1);
  assert.equal(undeletable.code, 2);
  assert.equal((await s.call('GET', 'sys/policies/acl/bad')).status, 404);
});

test('secrets enable, list (table, --detailed, JSON), tune, move, disable', async () => {
  const s = await startDevServer();
  const env = { addr: s.addr, token: s.rootToken };
  const en = expectExit(await coffer(['secrets', 'enable', '--path', 'team-a', '--version', '2', '--description', 'team A', '--max-lease-ttl', '24h', 'kv'], env), 0, 'enable');
  assert.equal(en.stdout, 'Success! Enabled the kv secrets engine at: team-a/\n');
  const mount = (await s.call('GET', 'sys/mounts/team-a')).body.data;
  assert.deepEqual([mount.type, mount.options.version, mount.description, mount.config.max_lease_ttl], ['kv', '2', 'team A', 86400]);
  expectExit(await coffer(['kv', 'put', 'team-a/db', 'pw=1'], env), 0, 'kv on the new mount');
  assert.equal((await s.call('GET', 'team-a/data/db')).body.data.data.pw, '1');

  const [table, detailed, json, again] = await Promise.all([
    coffer(['secrets', 'list'], env),
    coffer(['secrets', 'list', '--detailed'], env),
    coffer(['secrets', 'list', '--format', 'json'], env),
    coffer(['secrets', 'enable', '--path', 'team-a', 'kv'], env),
  ]);
  const lines = expectExit(table, 0, 'list').stdout.split('\n');
  assert.match(lines[0]!, /^Path\s+Type\s+Accessor\s+Description$/);
  assert.ok(lines.some((l) => /^team-a\/\s+kv\s+kv_\S+\s+team A$/.test(l)), table.stdout);
  assert.ok(lines.some((l) => /^sys\/\s+system\s+\S+\s+system endpoints/.test(l)), table.stdout);
  const d = expectExit(detailed, 0, 'detailed').stdout;
  assert.match(d, /^Path\s+Plugin\s+Accessor\s+Default TTL\s+Max TTL\s+Force No Cache\s+Replication\s+Seal Wrap\s+External Entropy Access\s+Options\s+Description\s+UUID/);
  assert.match(d, /\nteam-a\/\s+kv\s+\S+\s+system\s+86400\s+false\s+replicated\s+false\s+false\s+map\[version:2\]\s+team A\s+[0-9a-f-]{36}/);
  assert.match(d, /\ncubbyhole\/\s+cubbyhole\s+\S+\s+n\/a\s+n\/a\s+false\s+local/);
  assert.equal((JSON.parse(expectExit(json, 0, 'json').stdout) as Record<string, { type: string }>)['team-a/']?.type, 'kv');
  assert.equal(again.code, 2, 'enabling a taken path is refused');

  assert.equal(expectExit(await coffer(['secrets', 'tune', '--default-lease-ttl', '1h', '--description', 'tuned', 'team-a'], env), 0, 'tune').stdout, 'Success! Tuned the secrets engine at: team-a/\n');
  const tuned = (await s.call('GET', 'sys/mounts/team-a/tune')).body.data;
  assert.deepEqual([tuned.default_lease_ttl, tuned.description], [3600, 'tuned']);
  const moved = expectExit(await coffer(['secrets', 'move', 'team-a', 'teams/a'], env), 0, 'move');
  assert.match(moved.stdout, /^Started moving secrets engine team-a\/ to teams\/a\/, with migration ID (\S+)\nSuccess! Finished moving secrets engine team-a\/ to teams\/a\/, with migration ID \1\n$/);
  assert.equal((await s.call('GET', 'teams/a/data/db')).body.data.data.pw, '1', 'the data moved with the mount');
  assert.equal(expectExit(await coffer(['secrets', 'disable', 'teams/a'], env), 0, 'disable').stdout, 'Success! Disabled the secrets engine (if it existed) at: teams/a/\n');
  assert.equal((await s.call('GET', 'sys/mounts')).body.data['teams/a/'], undefined);
  const [badType, sysOff] = await Promise.all([coffer(['secrets', 'enable', 'no-such-engine'], env), coffer(['secrets', 'disable', 'sys'], env)]);
  assert.equal(badType.code, 2);
  assert.match(badType.stderr, /^Error enabling: Error making API request\.[\s\S]*plugin not found in the catalog: no-such-engine/);
  assert.equal(sysOff.code, 2);
});

test('auth enable, list, tune, move, disable (sys/auth)', async () => {
  const s = await startDevServer();
  const env = { addr: s.addr, token: s.rootToken };
  assert.equal(expectExit(await coffer(['auth', 'enable', '--path', 'people', '--description', 'humans', 'userpass'], env), 0, 'enable').stdout, 'Success! Enabled userpass auth method at: people/\n');
  const [list, detailed] = await Promise.all([coffer(['auth', 'list'], env), coffer(['auth', 'list', '--detailed'], env)]);
  assert.match(expectExit(list, 0, 'list').stdout, /^Path\s+Type\s+Accessor\s+Description\s+Version\n/);
  assert.match(list.stdout, /\npeople\/\s+userpass\s+\S+\s+humans\s+n\/a\n/);
  assert.match(list.stdout, /\ntoken\/\s+token\s+\S+\s+token based credentials\s+n\/a\n/);
  assert.match(expectExit(detailed, 0, 'detailed').stdout, /\npeople\/\s+userpass\s+\S+\s+system\s+system\s+default-service\s+replicated/);
  expectExit(await coffer(['auth', 'tune', '--max-lease-ttl', '12h', '--token-type', 'default-batch', 'people'], env), 0, 'tune');
  const tuned = (await s.call('GET', 'sys/auth/people/tune')).body.data;
  assert.deepEqual([tuned.max_lease_ttl, tuned.token_type], [43200, 'default-batch']);
  const moved = expectExit(await coffer(['auth', 'move', 'people', 'staff'], env), 0, 'move');
  assert.match(moved.stdout, /Success! Finished moving auth method people\/ to staff\//);
  assert.ok((await s.call('GET', 'sys/auth')).body.data['staff/']);
  assert.equal(expectExit(await coffer(['auth', 'disable', 'staff'], env), 0, 'disable').stdout, 'Success! Disabled the auth method (if it existed) at: staff/\n');
  assert.equal((await s.call('GET', 'sys/auth')).body.data['staff/'], undefined);
  const denied = await coffer(['auth', 'list'], { ...env, token: (await s.call('POST', 'auth/token/create', { policies: ['default'] })).body.auth.client_token });
  assert.equal(denied.code, 2);
  assert.match(denied.stderr, /^Error listing enabled authentications: Error making API request\.[\s\S]*permission denied/);
});
