import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CofferApiError, CofferClient, CofferClientError, settingsFromEnv } from '../../src/sdk/index.js';
import { envelope, sealStatus, startFakeVault } from '../helpers/fake-vault.js';
import { tmpDir } from '../helpers/tmp.js';

const TOKEN = 'hvs.CAESIJ-test-token-0123456789';

test('fromEnv: COFFER_* wins over VAULT_*, which wins over ~/.coffer-token', async () => {
  const home = tmpDir('coffer-home');
  writeFileSync(join(home, '.coffer-token'), 'from-file-token\n');
  const fake = await startFakeVault({ 'GET /v1/sys/leader': { status: 200, body: { ha_enabled: false, is_self: true, leader_address: '' } } });
  const sent = async (env: Record<string, string>): Promise<string | string[] | undefined> => {
    await CofferClient.fromEnv({}, { HOME: home, ...env }).sys.leader();
    return fake.requests.at(-1)?.headers['x-vault-token'];
  };
  const addr = fake.address;
  assert.equal(await sent({ COFFER_ADDR: addr, COFFER_TOKEN: 'coffer-token', VAULT_TOKEN: 'vault-token' }), 'coffer-token');
  assert.equal(await sent({ COFFER_ADDR: addr, VAULT_TOKEN: 'vault-token' }), 'vault-token');
  assert.equal(await sent({ VAULT_ADDR: addr }), 'from-file-token');
  assert.equal(await sent({ VAULT_ADDR: addr, COFFER_TOKEN: '' }), 'from-file-token', 'an empty variable counts as unset');

  assert.equal(settingsFromEnv({ HOME: home, COFFER_ADDR: 'http://a:1', VAULT_ADDR: 'http://b:2' }).address, 'http://a:1');
  assert.equal(settingsFromEnv({ HOME: home, VAULT_ADDR: 'http://b:2' }).address, 'http://b:2');
  assert.equal(settingsFromEnv({ HOME: tmpDir('empty-home') }).address, 'http://127.0.0.1:8200');
  assert.equal(settingsFromEnv({ HOME: tmpDir('empty-home') }).token, undefined);
});

test('fromEnv: TLS and namespace variables, with overrides winning', () => {
  const home = tmpDir('coffer-home');
  const s = settingsFromEnv({ HOME: home, VAULT_SKIP_VERIFY: 'true', VAULT_CACERT: '/ca.pem', VAULT_NAMESPACE: 'team-a' });
  assert.deepEqual(s, { address: 'http://127.0.0.1:8200', tlsSkipVerify: true, caCert: '/ca.pem', namespace: 'team-a' });
  assert.equal(settingsFromEnv({ HOME: home, COFFER_SKIP_VERIFY: '0', VAULT_SKIP_VERIFY: '1' }).tlsSkipVerify, false);
  assert.throws(() => settingsFromEnv({ HOME: home, COFFER_SKIP_VERIFY: 'yes' }), TypeError);
  const client = CofferClient.fromEnv({ address: 'http://override:1' }, { HOME: home, COFFER_ADDR: 'http://env:2' });
  assert.equal(client.address, 'http://override:1');
});

test('an error status becomes CofferApiError with status and errors, and no token in the message', async () => {
  const fake = await startFakeVault({
    'GET /v1/secret/denied': { status: 403, body: { errors: ['permission denied', `token ${TOKEN} is not allowed here`] } },
    'GET /v1/sys/seal-status': { status: 500, body: 'not-an-object' },
  });
  const client = new CofferClient({ address: fake.address, token: TOKEN });
  const err = await client.read('secret/denied').then(() => assert.fail('expected a rejection'), (e: unknown) => e);
  assert.ok(err instanceof CofferApiError);
  assert.equal(err.status, 403);
  assert.equal(err.errors[0], 'permission denied');
  assert.match(err.message, /Code: 403\. Errors:\n\n\* permission denied/);
  assert.match(err.message, /URL: GET http:\/\/127\.0\.0\.1:\d+\/v1\/secret\/denied/);
  assert.ok(!err.message.includes(TOKEN), 'the token is redacted');
  assert.ok(!err.errors.join(' ').includes(TOKEN));

  const bare = await client.sys.sealStatus().then(() => assert.fail('expected a rejection'), (e: unknown) => e);
  assert.ok(bare instanceof CofferApiError);
  assert.equal(bare.status, 500);
  assert.deepEqual(bare.errors, []);
});

test('request sends the token, namespace and X-Vault-Request headers, JSON bodies and query strings', async () => {
  const fake = await startFakeVault({ 'PUT /v1/sys/unseal': { status: 200, body: sealStatus(true) } });
  const client = new CofferClient({ address: `${fake.address}/`, token: TOKEN, namespace: 'team-a' });
  await client.sys.unseal('a2V5');
  await client.request('GET', '/sys/unseal', undefined, { query: { a: 1, b: undefined }, accept: [404] });
  const [unseal, get] = fake.requests;
  assert.equal(unseal?.method, 'PUT');
  assert.deepEqual(unseal?.body, { key: 'a2V5' });
  assert.equal(unseal?.headers['content-type'], 'application/json');
  assert.equal(unseal?.headers['x-vault-token'], TOKEN);
  assert.equal(unseal?.headers['x-vault-namespace'], 'team-a');
  assert.equal(unseal?.headers['x-vault-request'], 'true');
  assert.equal(get?.query.toString(), 'a=1');
  await client.sys.unseal({ reset: true });
  assert.deepEqual(fake.requests.at(-1)?.body, { reset: true });
});

test('read: null on an empty 404, the body on a 404 that carries data', async () => {
  const fake = await startFakeVault({
    'GET /v1/secret/data/deleted': { status: 404, body: envelope({ data: null, metadata: { version: 2, deletion_time: 'x' } }) },
    'GET /v1/secret/data/live': { status: 200, body: envelope({ data: { a: 'b' } }, { lease_duration: 2764800 }) },
  });
  const client = new CofferClient({ address: fake.address });
  assert.equal(await client.read('secret/data/missing'), null);
  const deleted = await client.read('secret/data/deleted');
  assert.deepEqual(deleted?.data?.['metadata'], { version: 2, deletion_time: 'x' });
  const live = await client.read('secret/data/live');
  assert.deepEqual(live?.data, { data: { a: 'b' } });
  assert.equal(live?.lease_duration, 2764800);
});

test('write and delete: PUT with the JSON body, DELETE; 204 gives null', async () => {
  const fake = await startFakeVault({
    'PUT /v1/secret/a': { status: 204 },
    'PUT /v1/secret/data/b': { status: 200, body: envelope({ version: 1 }) },
    'DELETE /v1/secret/a': { status: 204 },
  });
  const client = new CofferClient({ address: fake.address });
  assert.equal(await client.write('secret/a', { k: 'v', n: [1, 2] }), null);
  assert.deepEqual(fake.requests[0]?.body, { k: 'v', n: [1, 2] });
  assert.deepEqual((await client.write('secret/data/b', { data: {} }))?.data, { version: 1 });
  assert.equal(await client.delete('secret/a'), null);
  assert.equal(fake.requests.at(-1)?.method, 'DELETE');
});

test('list sends the LIST method and returns data.keys; a 404 is an empty list (null)', async () => {
  // Node's HTTP parser refuses LIST, so this fake reads the request line off the socket itself.
  const seen: string[] = [];
  const server = createNetServer((socket) => {
    socket.once('data', (chunk: Buffer) => {
      const line = chunk.toString('latin1').split('\r\n')[0] ?? '';
      seen.push(line);
      const body = line.includes('/v1/empty/') ? '{"errors":[]}' : JSON.stringify(envelope({ keys: ['a', 'dir/'] }));
      const status = line.includes('/v1/empty/') ? '404 Not Found' : '200 OK';
      socket.end(`HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => server.close());
  const client = new CofferClient({ address: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  const listed = await client.list('secret/metadata/');
  assert.deepEqual(listed?.data.keys, ['a', 'dir/']);
  assert.equal(seen[0], 'LIST /v1/secret/metadata/ HTTP/1.1');
  assert.equal(await client.list('empty/'), null);
});

test('sys.health returns the body for every documented status, with the status', async () => {
  let status = 503;
  const fake = await startFakeVault({
    'GET /v1/sys/health': () => ({ status, body: { initialized: true, sealed: status === 503, standby: status === 429, version: '0.1.0' } }),
  });
  const client = new CofferClient({ address: fake.address });
  for (const code of [200, 429, 472, 473, 501, 503]) {
    status = code;
    const health = await client.sys.health({ standbyok: true });
    assert.equal(health.status, code);
    assert.equal(health.sealed, code === 503);
  }
  assert.equal(fake.requests[0]?.query.get('standbyok'), 'true');
  status = 500;
  await assert.rejects(client.sys.health(), CofferApiError);
});

test('sys: init, key-status (under data), rotate, seal and the rekey calls', async () => {
  const fake = await startFakeVault({
    'PUT /v1/sys/init': { status: 200, body: { keys: ['ab'], keys_base64: ['qw=='], root_token: 'hvs.root' } },
    'GET /v1/sys/init': { status: 200, body: { initialized: true } },
    'GET /v1/sys/key-status': { status: 200, body: envelope({ term: 2, install_time: '2025-01-01T00:00:00Z', encryptions: 7 }, { term: 2 }) },
    'PUT /v1/sys/rotate': { status: 204 },
    'PUT /v1/sys/seal': { status: 204 },
    'PUT /v1/sys/rekey/init': { status: 200, body: { nonce: 'n1', started: true, t: 2, n: 3, progress: 0, required: 3 } },
    'GET /v1/sys/rekey/init': { status: 200, body: { nonce: '', started: false, t: 0, n: 0, progress: 0, required: 0 } },
    'DELETE /v1/sys/rekey/init': { status: 204 },
    'PUT /v1/sys/rekey/update': (req) =>
      (req.body as { key: string }).key === 'last'
        ? { status: 200, body: { nonce: 'n1', complete: true, keys: ['01'], keys_base64: ['AQ=='] } }
        : { status: 200, body: { nonce: 'n1', started: true, t: 2, n: 3, progress: 1, required: 3 } },
  });
  const client = new CofferClient({ address: fake.address, token: TOKEN });
  assert.deepEqual(await client.sys.init({ secret_shares: 1, secret_threshold: 1 }), { keys: ['ab'], keys_base64: ['qw=='], root_token: 'hvs.root' });
  assert.deepEqual(fake.requests[0]?.body, { secret_shares: 1, secret_threshold: 1 });
  assert.equal((await client.sys.initStatus()).initialized, true);
  assert.deepEqual(await client.sys.keyStatus(), { term: 2, install_time: '2025-01-01T00:00:00Z', encryptions: 7 });
  await client.sys.rotate();
  await client.sys.seal();
  const started = await client.sys.rekeyInit({ secret_shares: 3, secret_threshold: 2 });
  assert.equal(started.nonce, 'n1');
  assert.equal((await client.sys.rekeyStatus()).started, false);
  await client.sys.rekeyCancel();
  const partial = await client.sys.rekeyUpdate('first', 'n1');
  assert.equal(partial.complete, false);
  assert.equal(partial.progress, 1);
  const done = await client.sys.rekeyUpdate('last', 'n1');
  assert.equal(done.complete, true);
  assert.deepEqual(done.keys_base64, ['AQ==']);
  assert.deepEqual(fake.requests.at(-1)?.body, { key: 'last', nonce: 'n1' });
});

test('a response of the wrong shape and an unreachable server are CofferClientErrors', async () => {
  const fake = await startFakeVault({ 'GET /v1/sys/seal-status': { status: 200, body: { sealed: 'maybe' } } });
  const client = new CofferClient({ address: fake.address, token: TOKEN });
  await assert.rejects(client.sys.sealStatus(), (e: unknown) => e instanceof CofferClientError && /unexpected response/.test(e.message));
  const closed = new CofferClient({ address: 'http://127.0.0.1:9', token: TOKEN });
  await assert.rejects(closed.sys.sealStatus(), (e: unknown) => e instanceof CofferClientError && !e.message.includes(TOKEN));
});

test('a redirect is not followed, so the token never goes to the address it names', async () => {
  let leaked = false;
  const other = await startFakeVault({ 'GET /v1/secret/x': () => ((leaked = true), { status: 200, body: envelope({}) }) });
  const server = createNetServer((socket) => {
    socket.once('data', () => {
      socket.end(`HTTP/1.1 307 Temporary Redirect\r\nLocation: ${other.address}/v1/secret/x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => server.close());
  const client = new CofferClient({ address: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: TOKEN });
  await assert.rejects(client.read('secret/x'), (e: unknown) => e instanceof CofferApiError && e.status === 307);
  assert.equal(leaked, false);
});

test('the constructor rejects addresses that are not http(s) URLs', () => {
  assert.throws(() => new CofferClient({ address: 'not a url' }), TypeError);
  assert.throws(() => new CofferClient({ address: 'ftp://host:21' }), TypeError);
  assert.throws(() => new CofferClient({ address: 'https://h:1', caCert: '/does/not/exist.pem' }), TypeError);
});

// A throwaway self-signed certificate for 127.0.0.1, for these tests only.
const TEST_ONLY_CERT = `-----BEGIN CERTIFICATE-----
MIIBoDCCAUWgAwIBAgIUBdD0w/o3Y5i+q2RKE7BgFPyVReQwCgYIKoZIzj0EAwIw
FjEUMBIGA1UEAwwLY29mZmVyLXRlc3QwIBcNMjYxMTI5MTg1MzU4WhgPMjEyNjEx
MDUxODUzNThaMBYxFDASBgNVBAMMC2NvZmZlci10ZXN0MFkwEwYHKoZIzj0CAQYI
KoZIzj0DAQcDQgAEGuDQ2+cVCq7LnjnSQVomEas67XDFXi1RzS6GjxjD9rARUI93
e9qg21Gmoi1TWASG2dOon33oC7wLcdJM7GH4qaNvMG0wHQYDVR0OBBYEFDrKEaXK
LXUGc2MLdPGk75aQ4breMB8GA1UdIwQYMBaAFDrKEaXKLXUGc2MLdPGk75aQ4bre
MA8GA1UdEwEB/wQFMAMBAf8wGgYDVR0RBBMwEYcEfwAAAYIJbG9jYWxob3N0MAoG
CCqGSM49BAMCA0kAMEYCIQDqo6hq16Geka4N3ZLTYtLnAVTPfSctlpxlJUutYeX3
uwIhAOb+4wQSl3nx/BxRFb9Qm8XbWkKHXxs8fOVsASUuYu3+
-----END CERTIFICATE-----
`;
const TEST_ONLY_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg47q64N+jjivDlx+8
BzdUpK9lPNoA7orFXzx5kzayPaShRANCAAQa4NDb5xUKrsueOdJBWiYRqzrtcMVe
LVHNLoaPGMP2sBFQj3d72qDbUaaiLVNYBIbZ06iffegLvAtx0kzsYfip
-----END PRIVATE KEY-----
`;

test('https: the system store rejects a private CA; caCert (file or PEM) or tlsSkipVerify accepts it', async () => {
  const server = createHttpsServer({ cert: TEST_ONLY_CERT, key: TEST_ONLY_KEY }, (req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(sealStatus(req.method !== 'GET')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  const address = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await assert.rejects(new CofferClient({ address }).sys.sealStatus(), CofferClientError);
  const caFile = join(tmpDir('coffer-ca'), 'ca.pem');
  writeFileSync(caFile, TEST_ONLY_CERT);
  assert.equal((await new CofferClient({ address, caCert: caFile }).sys.sealStatus()).sealed, false);
  assert.equal((await new CofferClient({ address, caCert: TEST_ONLY_CERT }).sys.unseal('k')).sealed, true);
  assert.equal((await new CofferClient({ address, tlsSkipVerify: true }).sys.sealStatus()).sealed, false);
  const env = { HOME: tmpDir('coffer-home'), COFFER_ADDR: address, VAULT_CACERT: caFile };
  assert.equal((await CofferClient.fromEnv({}, env).sys.sealStatus()).type, 'shamir');
});
