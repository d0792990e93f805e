import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { tmpDir } from '../helpers/tmp.js';

// SECURITY.md T3 for KV: a real server process on a real SQLite file, SIGKILLed while clients
// write; every write the server acknowledged (200) must read back after restart and unseal.
const RUNS = 50;
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'coffer.js');
const built = existsSync(join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js'));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address() as { port: number }; s.close(() => resolve(port)); });
  });
}

async function start(config: string, addr: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, 'server', '--config', config], { stdio: 'ignore' });
  for (let i = 0; i < 400; i++) {
    try {
      await fetch(`${addr}/v1/sys/health`);
      return child;
    } catch { await new Promise((r) => setTimeout(r, 25)); }
  }
  throw new Error('server did not start');
}

const call = async (addr: string, method: string, path: string, token: string, body?: unknown): Promise<Response> =>
  fetch(`${addr}/v1/${path}`, { method, headers: { 'X-Vault-Token': token }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

test(`T3: kill -9 during acknowledged KV v2 writes, ${RUNS} times: none lost`, { skip: built ? false : 'needs `npm run build` (npm test builds first)' }, async () => {
  const dir = tmpDir('kv-durability');
  const port = await freePort();
  const addr = `http://127.0.0.1:${port}`;
  const config = join(dir, 'coffer.hcl');
  writeFileSync(config, `storage "sqlite" { path = "${join(dir, 'coffer.db')}" }\nlistener "tcp" {\n  address = "127.0.0.1:${port}"\n  tls_disable = true\n}\nlog_level = "error"\n`);

  let server = await start(config, addr);
  const init = await (await call(addr, 'PUT', 'sys/init', '', { secret_shares: 1, secret_threshold: 1 })).json() as { keys_base64: string[]; root_token: string };
  const [key] = init.keys_base64;
  const token = init.root_token;
  const unseal = async (): Promise<void> => { assert.equal((await call(addr, 'PUT', 'sys/unseal', '', { key })).status, 200); };
  await unseal();
  assert.equal((await call(addr, 'POST', 'sys/mounts/secret', token, { type: 'kv', options: { version: '2' } })).status, 204);

  const acked = new Map<string, string>();
  for (let run = 0; run < RUNS; run++) {
    if (run > 0) { server = await start(config, addr); await unseal(); }
    let stop = false;
    const writer = async (w: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const path = `r${run}/w${w}/k${i}`;
        const value = `v-${run}-${w}-${i}`;
        try {
          const res = await call(addr, 'POST', `secret/data/${path}`, token, { data: { value } });
          if (res.status === 200) acked.set(path, value);
          await res.arrayBuffer();
        } catch { return; }
      }
    };
    const writers = Array.from({ length: 4 }, (_, w) => writer(w));
    await new Promise((r) => setTimeout(r, 40 + Math.floor(Math.random() * 160)));
    server.kill('SIGKILL');
    await new Promise((r) => server.once('exit', r));
    stop = true;
    await Promise.all(writers);
  }
  assert.ok(acked.size > RUNS, `only ${acked.size} acknowledged writes`);

  server = await start(config, addr);
  try {
    await unseal();
    for (const [path, value] of acked) {
      const res = await call(addr, 'GET', `secret/data/${path}`, token);
      assert.equal(res.status, 200, `acknowledged write ${path} lost`);
      const body = await res.json() as { data: { data: { value: string } } };
      assert.equal(body.data.data.value, value);
    }
  } finally {
    server.kill('SIGKILL');
  }
});
