import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDevServer } from '../helpers/server.js';

// SECURITY.md T8: a token past its TTL, and everything that hangs off it, is refused everywhere.
const s = await startDevServer();
const root = (method: string, path: string, body?: unknown) => s.call(method, path, body);
const as = (token: string) => (method: string, path: string, body?: unknown) => s.call(method, path, body, { 'X-Vault-Token': token });

async function mint(body: Record<string, unknown>, token = s.rootToken): Promise<{ client_token: string; accessor: string; lease_duration: number }> {
  const r = await as(token)('POST', 'auth/token/create', body);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.auth;
}

test('T8: tokens past their TTL are refused on every path, with their children and batch tokens, then swept', async () => {
  const put = await root('PUT', 'sys/policy/maker', { policy: 'path "auth/token/*" { capabilities = ["create", "read", "update"] }\npath "cubbyhole/*" { capabilities = ["create", "read", "update"] }' });
  assert.ok(put.status === 200 || put.status === 204, JSON.stringify(put.body));

  const short = await mint({ policies: ['maker'], ttl: '2s' });
  assert.equal(short.lease_duration, 2);
  // Children may outlive nothing: a 1h child of a 2s parent dies with it.
  const child = await mint({ policies: ['maker'], ttl: '1h' }, short.client_token);
  const batch = await mint({ policies: ['maker'], ttl: '2s', type: 'batch' });
  const batchChild = await mint({ policies: ['maker'], ttl: '1h', type: 'batch' }, short.client_token);
  const survivor = await mint({ policies: ['maker'], ttl: '1h' });

  for (const t of [short, child, batch, batchChild]) assert.equal((await as(t.client_token)('GET', 'auth/token/lookup-self')).status, 200);
  await sleep(2500);

  for (const t of [short, child, batch, batchChild]) {
    const a = as(t.client_token);
    assert.equal((await a('GET', 'auth/token/lookup-self')).status, 403);
    assert.equal((await a('POST', 'auth/token/renew-self', { increment: '1h' })).status, 403);
    assert.equal((await a('POST', 'auth/token/create', { policies: ['maker'] })).status, 403);
    assert.equal((await a('PUT', 'cubbyhole/x', { v: 1 })).status, 403);
    assert.equal((await a('POST', 'sys/capabilities-self', { paths: ['cubbyhole/x'] })).status, 403);
  }
  assert.equal((await root('POST', 'auth/token/lookup', { token: short.client_token })).status, 403);
  assert.equal((await root('POST', 'auth/token/renew', { token: short.client_token })).status, 400);
  assert.equal((await as(survivor.client_token)('GET', 'auth/token/lookup-self')).status, 200);

  // Refused, and still stored until swept: tidy runs the sweep, after which the accessors are gone.
  const before = (await root('LIST', 'auth/token/accessors')).body.data.keys as string[];
  assert.ok(before.includes(short.accessor) && before.includes(child.accessor));
  assert.equal((await root('POST', 'auth/token/tidy')).status, 202);
  const after = (await root('LIST', 'auth/token/accessors')).body.data.keys as string[];
  assert.ok(!after.includes(short.accessor) && !after.includes(child.accessor));
  assert.ok(after.includes(survivor.accessor));
});

test('T8: renewal never reaches past explicit_max_ttl, however often it is asked', async () => {
  const t = await mint({ policies: ['default'], ttl: '1s', explicit_max_ttl: '3s' });
  const started = Date.now();
  let refusedAt = 0;
  for (let i = 0; i < 40; i++) {
    const r = await as(t.client_token)('POST', 'auth/token/renew-self', { increment: '1h' });
    if (r.status !== 200) { refusedAt = Date.now(); break; }
    assert.ok(r.body.auth.lease_duration <= 3);
    await sleep(250);
  }
  assert.ok(refusedAt > 0, 'renewal kept the token alive past its explicit max TTL');
  assert.ok(refusedAt - started <= 3000 + 1000, `refused only after ${refusedAt - started} ms`);
});
