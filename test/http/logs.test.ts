import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { startServer } from '../../src/server/start.js';
import { createLogger } from '../../src/util/logger.js';

// SECURITY.md rule 1 / T2 for the server log: at the most verbose level, nothing a client sent
// as a secret, and no token, share or root token, ever reaches the log.
test('T2: the server log at trace level holds no secret value, token or unseal key', async () => {
  const sink = new PassThrough();
  let log = '';
  sink.on('data', (d: Buffer) => { log += d.toString(); });
  const server = await startServer({ dev: { listenAddress: '127.0.0.1:0', rootToken: 'root-log-canary-token' }, logger: createLogger('trace', sink) });
  after(() => server.close());
  const addr = server.addresses[0]!;
  const call = (method: string, path: string, body?: unknown, token = 'root-log-canary-token') =>
    fetch(`${addr}/v1/${path}`, { method, headers: { 'X-Vault-Token': token }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

  const canary = 'canary-secret-7f3a9c2e51';
  assert.equal((await call('POST', 'secret/data/app', { data: { password: canary } })).status, 200);
  assert.equal((await call('GET', 'secret/data/app')).status, 200);
  const created = await (await call('POST', 'auth/token/create', { policies: ['default'] })).json() as { auth: { client_token: string } };
  const child = created.auth.client_token;
  assert.equal((await call('GET', 'secret/data/app', undefined, child)).status, 403);
  assert.equal((await call('POST', 'secret/data/app', '{"data": broken')).status, 400);
  await call('POST', 'sys/rotate');
  await call('PUT', 'sys/seal');
  await call('PUT', 'sys/unseal', { key: server.dev!.unsealKey });

  assert.ok(log.length > 0, 'the logger wrote something');
  for (const secret of [canary, 'root-log-canary-token', child, child.slice(4), server.dev!.unsealKey, Buffer.from(server.dev!.unsealKey, 'base64').toString('hex')]) {
    assert.equal(log.includes(secret), false, `log holds ${secret.slice(0, 6)}…`);
  }
});
