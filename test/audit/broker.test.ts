import assert from 'node:assert/strict';
import { readFile, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { verifyFiles } from '../../src/audit/verify-files.js';
import { startDevServer } from '../helpers/server.js';
import { tmpDir } from '../helpers/tmp.js';
import { eventually } from './device-contract.js';
import { enableFile, entriesFor, obj, readLog } from './helpers.js';

const dir = tmpDir('audit-broker');

test('enable, list (Vault shape), audit-hash and disable over HTTP', async () => {
  const s = await startDevServer();
  const path = join(dir, 'lifecycle.log');
  await enableFile(s, 'file', path);
  const list = await s.call('GET', 'sys/audit');
  assert.equal(list.status, 200);
  assert.deepEqual(list.body.data['file/'], { path: 'file/', type: 'file', description: 'file log', options: { file_path: path }, local: false });
  assert.deepEqual(list.body['file/'], list.body.data['file/'], 'sys/audit copies data to the top level, as Vault');

  const hash = await s.call('POST', 'sys/audit-hash/file', { input: 'hello' });
  assert.equal(hash.status, 200);
  assert.match(hash.body.data.hash, /^hmac-sha256:[0-9a-f]{64}$/);
  assert.equal((await s.call('POST', 'sys/audit-hash/file', { input: '' })).status, 400);
  assert.equal((await s.call('POST', 'sys/audit-hash/nope', { input: 'x' })).status, 400);

  assert.equal((await s.call('DELETE', 'sys/audit/file')).status, 204);
  assert.deepEqual((await s.call('GET', 'sys/audit')).body.data, {});
  assert.equal((await s.call('DELETE', 'sys/audit/file')).status, 204, 'disabling a missing device is not an error');
  const log = await readLog(path);
  assert.equal(log[0]?.entry['reason'], 'enable');
  assert.equal(log.at(-1)?.entry['reason'], 'disable', 'a disabled device ends its log with a checkpoint');
  assert.equal((await verifyFiles([path])).issue, undefined);

  // Re-enabling gives a new salt (and a new chain).
  await enableFile(s, 'file', join(dir, 'lifecycle-2.log'));
  const again = await s.call('POST', 'sys/audit-hash/file', { input: 'hello' });
  assert.notEqual(again.body.data.hash, hash.body.data.hash);
});

test('bad device configurations are refused with 400 and leave nothing enabled', async () => {
  const s = await startDevServer();
  const cases: Array<[unknown, RegExp]> = [
    [{ type: 'nope' }, /unknown audit device type/],
    [{}, /missing audit device type/],
    [{ type: 'file', options: {} }, /file_path is required/],
    [{ type: 'file', options: { file_path: 'relative.log' } }, /absolute/],
    [{ type: 'file', options: { file_path: join(dir, 'x.log'), mode: '0755' } }, /executable/],
    [{ type: 'file', options: { file_path: join(dir, 'x.log'), fle_path: 'typo' } }, /unknown option.*fle_path/],
    [{ type: 'file', options: { file_path: join(dir, 'x.log'), format: 'jsonx' } }, /format/],
    [{ type: 'file', options: { file_path: '/dev/full' } }, /failed its test write/],
    [{ type: 'http', options: { url: 'file:///etc/passwd' } }, /http or https/],
    [{ type: 'socket', options: { address: '127.0.0.1:1' } }, /failed its test write/],
  ];
  for (const [body, message] of cases) {
    const r = await s.call('PUT', 'sys/audit/bad', body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.match(r.body.errors[0], message);
  }
  assert.deepEqual((await s.call('GET', 'sys/audit')).body.data, {});
  await enableFile(s, 'a/b', join(dir, 'nested.log'));
  assert.match((await s.call('PUT', 'sys/audit/a', { type: 'file', options: { file_path: join(dir, 'n2.log') } })).body.errors[0], /already in use/);
  assert.match((await s.call('PUT', 'sys/audit/a/b', { type: 'file', options: { file_path: join(dir, 'n3.log') } })).body.errors[0], /already in use/);
  // skip_test enables a device whose destination is broken (Vault's escape hatch); the
  // healthy one keeps the server serving.
  assert.equal((await s.call('PUT', 'sys/audit/full', { type: 'file', options: { file_path: '/dev/full', skip_test: 'true' } })).status, 204);
  assert.deepEqual(Object.keys((await s.call('GET', 'sys/audit')).body.data).sort(), ['a/b/', 'full/']);
});

test('sys/audit needs sudo; sys/audit-hash needs only update', async () => {
  const s = await startDevServer();
  await enableFile(s, 'file', join(dir, 'sudo.log'));
  const policy = 'path "sys/audit*" { capabilities = ["create", "read", "update", "delete", "list"] }\npath "sys/audit-hash/*" { capabilities = ["update"] }';
  assert.equal((await s.call('PUT', 'sys/policies/acl/auditor', { policy })).status, 204);
  const created = await s.call('POST', 'auth/token/create', { policies: ['auditor'] });
  const token = created.body.auth.client_token as string;
  const as = { 'X-Vault-Token': token };
  assert.equal((await s.call('GET', 'sys/audit', undefined, as)).status, 403);
  assert.equal((await s.call('PUT', 'sys/audit/other', { type: 'file', options: { file_path: join(dir, 'o.log') } }, as)).status, 403);
  assert.equal((await s.call('DELETE', 'sys/audit/file', undefined, as)).status, 403);
  assert.equal((await s.call('POST', 'sys/audit-verify/file', { checkpoints: [] }, as)).status, 403);
  assert.equal((await s.call('POST', 'sys/audit-hash/file', { input: 'x' }, as)).status, 200);
});

test('entries: Vault format, tokens/accessors/data HMAC\'d with the device salt, who/what/where/when', async () => {
  const s = await startDevServer();
  const path = join(dir, 'format.log');
  await enableFile(s, 'file', path);
  assert.equal((await s.call('POST', 'secret/data/app', { data: { password: 'pw-1', n: 7, nested: { list: ['a', 'b'] } } })).status, 200);
  assert.equal((await s.call('GET', 'secret/data/app', undefined, { 'User-Agent': 'audit-test/1.0' })).status, 200);
  const self = await s.call('GET', 'auth/token/lookup-self');
  const accessor = self.body.data.accessor as string;
  const h = async (input: string): Promise<string> => (await s.call('POST', 'sys/audit-hash/file', { input })).body.data.hash as string;

  const [req, res] = entriesFor(await readLog(path), 'secret/data/app').slice(2);
  assert.ok(req && res);
  assert.equal(req['type'], 'request');
  assert.equal(res['type'], 'response');
  assert.ok(!Number.isNaN(Date.parse(String(req['time']))));
  const auth = obj(req['auth']);
  assert.equal(auth['client_token'], await h(s.rootToken));
  assert.equal(auth['accessor'], await h(accessor));
  assert.equal(auth['display_name'], 'root');
  assert.deepEqual(auth['policies'], ['root']);
  assert.equal(auth['token_type'], 'service');
  const r = obj(req['request']);
  assert.equal(r['operation'], 'read');
  assert.equal(r['path'], 'secret/data/app');
  assert.equal(r['mount_type'], 'kv');
  assert.equal(r['mount_point'], 'secret/');
  assert.equal(r['client_token'], await h(s.rootToken));
  assert.equal(r['client_token_accessor'], await h(accessor));
  assert.equal(r['remote_address'], '127.0.0.1');
  assert.deepEqual(obj(r['headers'])['user-agent'], ['audit-test/1.0']);
  assert.equal(obj(res['request'])['id'], r['id'], 'both entries of a request share its id');
  const data = obj(obj(obj(res['response'])['data'])['data']);
  assert.equal(data['password'], await h('pw-1'));
  assert.equal(data['n'], 7, 'numbers are kept');
  assert.deepEqual(obj(data['nested'])['list'], [await h('a'), await h('b')]);
  assert.equal(obj(res['response'])['mount_type'], 'kv');
});

test('options: hmac_accessor=false, log_raw, prefix, elide_list_responses', async () => {
  const s = await startDevServer();
  const plain = join(dir, 'opt-accessor.log');
  const raw = join(dir, 'opt-raw.log');
  const prefixed = join(dir, 'opt-prefix.log');
  await enableFile(s, 'acc', plain, { hmac_accessor: 'false', elide_list_responses: 'true' });
  await enableFile(s, 'raw', raw, { log_raw: 'true' });
  await enableFile(s, 'pre', prefixed, { prefix: 'COFFER ' });
  await s.call('POST', 'secret/data/one', { data: { v: 'raw-value' } });
  await s.call('POST', 'secret/data/two', { data: { v: 'x' } });
  assert.equal((await s.call('LIST', 'secret/metadata/')).status, 200);
  const accessor = (await s.call('GET', 'auth/token/lookup-self')).body.data.accessor as string;

  const acc = await readLog(plain);
  assert.equal(obj(entriesFor(acc, 'secret/data/one')[0]!['auth'])['accessor'], accessor);
  const listed = entriesFor(acc, 'secret/metadata/').find((e) => e['type'] === 'response')!;
  assert.deepEqual(obj(obj(listed['response'])['data'])['keys'], 2, 'LIST answers keep only the key count');
  assert.match(await readFile(raw, 'utf8'), /"v":"raw-value"/, 'log_raw writes values as they are (insecure by choice)');
  const text = await readFile(prefixed, 'utf8');
  assert.ok(text.split('\n').filter(Boolean).every((l) => l.startsWith('COFFER {"seq":')));
  assert.equal((await verifyFiles([prefixed])).issue, undefined, 'the chain skips the prefix');
});

test('not audited: sys/health, sys/seal-status, sys/seal; denied requests are audited with their error', async () => {
  const s = await startDevServer();
  const path = join(dir, 'skip.log');
  await enableFile(s, 'file', path);
  await s.call('GET', 'sys/health');
  await s.call('GET', 'sys/seal-status');
  const denied = await s.call('GET', 'secret/data/app', undefined, { 'X-Vault-Token': 'not-a-real-token' });
  assert.equal(denied.status, 403);
  assert.equal((await s.call('PUT', 'sys/seal')).status, 204);
  assert.equal((await s.call('PUT', 'sys/unseal', { key: s.server.dev!.unsealKey })).body.sealed, false);
  await s.call('GET', 'secret/config');
  const log = await readLog(path);
  const paths = log.map((l) => (l.entry['request'] as { path?: string } | undefined)?.path).filter(Boolean);
  assert.ok(!paths.some((p) => /^sys\/(health|seal-status|seal|unseal)$/.test(p!)), paths.join(','));
  const refused = entriesFor(log, 'secret/data/app').find((e) => e['type'] === 'response')!;
  assert.equal(refused['error'], 'permission denied');
  assert.doesNotMatch(JSON.stringify(log.map((l) => l.entry)), /not-a-real-token/);
  assert.deepEqual(log.filter((l) => l.entry['type'] === 'checkpoint').map((l) => l.entry['reason']), ['enable', 'seal', 'resume']);
  assert.equal((await verifyFiles([path])).issue, undefined, 'the chain continues across seal and unseal');
});

test('SIGHUP reopens the file for logrotate; the chain continues into the new file', async () => {
  const s = await startDevServer();
  const path = join(dir, 'rotate.log');
  await enableFile(s, 'file', path);
  await s.call('GET', 'secret/config');
  await rename(path, `${path}.1`);
  process.kill(process.pid, 'SIGHUP');
  const fresh = await eventually(() => readdir(dir), (names) => names.includes('rotate.log'));
  assert.ok(fresh.includes('rotate.log'));
  await s.call('GET', 'secret/config');
  const old = await readLog(`${path}.1`);
  const now = await readLog(path);
  assert.equal(old.at(-1)?.entry['reason'], 'rotate');
  assert.equal(now[0]?.entry['reason'], 'open');
  assert.equal(now[0]?.prevHash, old.at(-1)?.hash);
  // Given newest first, as a shell glob lists them: put in chain order by the verifier.
  const report = await verifyFiles([path, `${path}.1`]);
  assert.equal(report.issue, undefined);
  assert.deepEqual(report.files, [`${path}.1`, path]);
  assert.equal((await verifyFiles([path])).issue, undefined, 'a rotated-to file verifies on its own');
});

test('a restart (sqlite data dir) resumes each device\'s chain from its stored checkpoint', async () => {
  const data = tmpDir('audit-restart');
  const path = join(dir, 'restart.log');
  const first = await startDevServer({ dataDir: data });
  await enableFile(first, 'file', path);
  await first.call('POST', 'secret/data/a', { data: { k: 'v' } });
  await first.server.close();
  const second = await startDevServer({ dataDir: data });
  assert.deepEqual(Object.keys((await second.call('GET', 'sys/audit')).body.data), ['file/']);
  await second.call('GET', 'secret/data/a');
  const log = await readLog(path);
  assert.deepEqual(log.map((l) => l.seq), log.map((_, i) => i + 1));
  assert.deepEqual(log.filter((l) => l.entry['type'] === 'checkpoint').map((l) => l.entry['reason']), ['enable', 'seal', 'resume']);
  assert.equal((await verifyFiles([path])).issue, undefined);
});
