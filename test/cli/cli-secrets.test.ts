import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startDevServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { tmpDir } from '../helpers/tmp.js';
import { coffer, expectExit } from './cli-runner.js';
import type { CliEnv } from './cli-runner.js';

// `coffer kv ...` and the README quick start, against a real dev server (KV v2 at secret/).

const TS = '\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z';

async function setup(): Promise<{ s: TestServer; env: CliEnv }> {
  const s = await startDevServer();
  return { s, env: { addr: s.addr, token: s.rootToken } };
}

/** Splits a README command line as a POSIX shell would (single and double quotes, no expansions). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  const re = /'([^']*)'|"((?:\\.|[^"\\])*)"|(\S+)/g;
  for (const m of line.matchAll(re)) words.push(m[1] ?? m[2]?.replace(/\\(.)/g, '$1') ?? m[3]!);
  return words;
}

test('README quick start runs exactly as written, and its claims hold', async () => {
  const { s } = await setup();
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.split(/^## /m).find((part) => part.startsWith('Quick start'));
  const block = /```sh\n([\s\S]*?)```/.exec(section ?? '')?.[1];
  assert.ok(block, 'README has a "## Quick start" section with a sh code block');

  const env: CliEnv = { addr: s.addr, home: tmpDir('coffer-readme-home') };
  const outputs: { args: string[]; stdout: string }[] = [];
  let ran = 0;
  for (const line of block.split('\n').map((l) => l.trim())) {
    if (line === '') continue;
    const exp = /^export (COFFER_ADDR|COFFER_TOKEN)='([^']*)'$/.exec(line);
    if (exp) {
      // The dev server's fixed address and the token placeholder become this test server's.
      if (exp[1] === 'COFFER_ADDR') assert.equal(exp[2], 'http://127.0.0.1:8200', 'the dev server\'s default address');
      else env.token = exp[2] === '<root token printed by the dev server>' ? s.rootToken : exp[2]!;
      continue;
    }
    const piped = /^echo '([^']*)' \| npx coffer (.*)$/.exec(line);
    const plain = /^npx coffer (.*)$/.exec(line);
    assert.ok(piped || plain, `the test understands every quick start line: ${line}`);
    const args = shellWords((piped ?? plain)![piped ? 2 : 1]!);
    const r = await coffer(args, env, piped ? `${piped[1]}\n` : undefined);
    expectExit(r, 0, line);
    outputs.push({ args, stdout: r.stdout });
    ran += 1;
  }
  assert.ok(ran >= 4, 'the quick start runs several commands');

  const find = (prefix: string): string => outputs.find((o) => o.args.join(' ').startsWith(prefix))?.stdout ?? '';
  assert.match(find('kv get secret/app/db'), /====== Data ======\nKey\s+Value\n---\s+-----\npassword\s+s3cr3t\nusername\s+app\n$/);
  assert.equal(find('kv get --field password'), 's3cr3t', 'piped: the raw value, no newline');
  const json = JSON.parse(find('kv get --format json')) as { data: { data: Record<string, string>; metadata: { version: number } } };
  assert.deepEqual(json.data.data, { username: 'app', password: 's3cr3t' });
  assert.deepEqual(find('kv list secret/app').split('\n'), ['Keys', '----', 'db', '']);
  // The prose: the token created last reads secret/app/... and nothing else.
  const appToken = /^token\s+(\S+)$/m.exec(find('token create'))?.[1];
  assert.ok(appToken, 'token create prints the token');
  const asApp = { ...env, token: appToken };
  const read = expectExit(await coffer(['kv', 'get', '--field', 'password', 'secret/app/db'], asApp), 0, 'app token reads');
  assert.equal(read.stdout, 'n3w-s3cr3t', 'kv patch changed the password');
  const denied = await coffer(['kv', 'put', 'secret/app/db', 'x=1'], asApp);
  assert.equal(denied.code, 2);
  assert.match(denied.stderr, /permission denied/);
});

test('kv put/get on KV v2: Vault\'s tables, --mount, --version, --field, JSON, missing secrets', async () => {
  const { s, env } = await setup();
  const put = expectExit(await coffer(['kv', 'put', 'secret/team/db', 'user=app', 'pass=one'], env), 0, 'kv put');
  assert.match(
    put.stdout,
    new RegExp(`^=== Secret Path ===\nsecret/data/team/db\n\n======= Metadata =======\nKey\\s+Value\n---\\s+-----\ncreated_time\\s+${TS}\ncustom_metadata\\s+<nil>\ndeletion_time\\s+n/a\ndestroyed\\s+false\nversion\\s+1\n$`),
  );
  expectExit(await coffer(['kv', 'put', '-mount=secret', 'team/db', 'user=app', 'pass=two'], env), 0, 'kv put --mount');
  // Reads and refusals do not change anything: run them side by side.
  const [get, v1, v1Field, jsonOut, noField, missing, noData, badVersion] = await Promise.all([
    coffer(['kv', 'get', '--mount', 'secret', 'team/db'], env),
    coffer(['kv', 'get', '--version', '1', 'secret/team/db'], env),
    coffer(['kv', 'get', '-version=1', '-field=pass', 'secret/team/db'], env),
    coffer(['kv', 'get', '-format=json', 'secret/team/db'], env),
    coffer(['kv', 'get', '--field', 'nope', 'secret/team/db'], env),
    coffer(['kv', 'get', 'secret/nothing/here'], env),
    coffer(['kv', 'put', 'secret/team/db'], env),
    coffer(['kv', 'get', '--version', 'x', 'secret/team/db'], env),
  ]);
  expectExit(get, 0, 'kv get --mount');
  assert.match(get.stdout, /^=== Secret Path ===\nsecret\/data\/team\/db\n\n======= Metadata =======\n/);
  assert.match(get.stdout, /version\s+2\n\n==== Data ====\nKey\s+Value\n---\s+-----\npass\s+two\nuser\s+app\n$/);
  assert.match(expectExit(v1, 0, '--version').stdout, /pass\s+one/);
  assert.equal(expectExit(v1Field, 0, '-field').stdout, 'one');
  const json = JSON.parse(expectExit(jsonOut, 0, 'json').stdout) as Record<string, unknown>;
  assert.equal((json['data'] as { metadata: { version: number } }).metadata.version, 2);
  assert.equal(typeof json['request_id'], 'string', 'the whole API response');
  assert.equal(noField.code, 1);
  assert.match(noField.stderr, /Field "nope" not present in secret/);
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr, 'No value found at secret/data/nothing/here\n');
  assert.equal(noData.code, 1);
  assert.match(noData.stderr, /Must supply data/);
  assert.equal(badVersion.code, 1);
  assert.equal((await s.call('GET', 'secret/data/team/db')).body.data.metadata.version, 2, 'usage errors wrote nothing');
});

test('kv put: @file, key=@file, - and key=- from stdin, --cas', async () => {
  const { s, env } = await setup();
  const dir = tmpDir('coffer-kv-files');
  writeFileSync(join(dir, 'cert.pem'), '-----BEGIN CERT-----\nabc\n');
  writeFileSync(join(dir, 'data.json'), JSON.stringify({ nested: { n: 1 }, list: [1, 2] }));
  expectExit(await coffer(['kv', 'put', 'secret/files', `cert=@${join(dir, 'cert.pem')}`, `@${join(dir, 'data.json')}`], env), 0, 'files');
  assert.deepEqual((await s.call('GET', 'secret/data/files')).body.data.data, { cert: '-----BEGIN CERT-----\nabc\n', nested: { n: 1 }, list: [1, 2] });
  expectExit(await coffer(['kv', 'put', 'secret/stdin', '-'], env, '{"from":"stdin","n":2}'), 0, 'stdin JSON');
  assert.deepEqual((await s.call('GET', 'secret/data/stdin')).body.data.data, { from: 'stdin', n: 2 });
  expectExit(await coffer(['kv', 'put', 'secret/stdin', 'key=-'], env, 'line one\nline two\n'), 0, 'key=-');
  assert.deepEqual((await s.call('GET', 'secret/data/stdin')).body.data.data, { key: 'line one\nline two\n' });

  expectExit(await coffer(['kv', 'put', '--cas', '0', 'secret/cas', 'v=1'], env), 0, 'cas 0 on a new secret');
  const clash = await coffer(['kv', 'put', '--cas', '0', 'secret/cas', 'v=2'], env);
  assert.equal(clash.code, 2);
  assert.match(clash.stderr, /^Error writing data to secret\/cas: Error making API request\.[\s\S]*check-and-set parameter did not match the current version/);
  expectExit(await coffer(['kv', 'put', '-cas=1', 'secret/cas', 'v=2'], env), 0, 'cas 1');
  assert.equal((await s.call('GET', 'secret/data/cas')).body.data.data.v, '2');
  const badFile = await coffer(['kv', 'put', 'secret/x', 'a=@/nonexistent/file'], env);
  assert.equal(badFile.code, 1);
});
