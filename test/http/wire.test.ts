import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { join } from 'node:path';
import { startConfiguredServer, startDevServer, sqliteConfig } from '../helpers/server.js';
import { tmpDir } from '../helpers/tmp.js';

const s = await startDevServer();
const { port } = new URL(s.addr);

/** Sends raw bytes and collects every status line the server answers with before closing or going idle. */
function raw(bytes: string | Buffer, idleMs = 300): Promise<number[]> {
  return new Promise((resolve) => {
    const sock = net.connect(Number(port), '127.0.0.1');
    let buf = '';
    const done = (): void => { sock.destroy(); resolve([...buf.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]))); };
    let timer = setTimeout(done, idleMs);
    sock.on('data', (d) => { buf += d.toString('latin1'); clearTimeout(timer); timer = setTimeout(done, idleMs); });
    sock.on('error', () => undefined);
    sock.on('close', () => { clearTimeout(timer); done(); });
    sock.write(bytes);
  });
}

test('a body over 32 MiB is 413', async () => {
  const r = await s.call('POST', 'sys/rotate', 'x'.repeat(32 * 1024 * 1024 + 10), { 'content-type': 'application/json' });
  assert.equal(r.status, 413);
});

test('malformed JSON, non-object JSON and deep nesting are 400 with a clear message', async () => {
  for (const body of ['{"a":', '[1,2]', '"str"', `${'['.repeat(100)}${']'.repeat(100)}`, `{"a":${'{"b":'.repeat(80)}1${'}'.repeat(80)}}`]) {
    const r = await s.call('POST', 'sys/rotate', body);
    assert.equal(r.status, 400, body.slice(0, 20));
    assert.ok(Array.isArray(r.body.errors) && r.body.errors[0].length > 0);
  }
});

test('unknown methods are 4xx; a genuine LOCK is refused; LIST and ?list=true reach the pipeline', async () => {
  const [bad] = await raw('FOO /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.ok(bad! >= 400 && bad! < 500);
  const [lock] = await raw(`LOCK /v1/sys/key-status HTTP/1.1\r\nHost: x\r\nX-Vault-Token: ${s.rootToken}\r\n\r\n`);
  assert.ok(lock! >= 400 && lock! < 500, `LOCK answered ${lock}`);
  // sys/key-status has no list operation: 405 proves LIST got routed as a list, not refused by the parser.
  assert.equal((await s.call('LIST', 'sys/key-status')).status, 405);
  for (const v of ['true', 'True', '1']) assert.equal((await s.call('GET', `sys/key-status?list=${v}`)).status, 405);
  assert.equal((await s.call('GET', 'sys/key-status?list=false')).status, 200);
  assert.equal((await s.call('GET', 'sys/key-status?list=maybe')).status, 400);
});

test('LIST on a keep-alive connection interleaved with GET and POST, and pipelined', async () => {
  const tok = `X-Vault-Token: ${s.rootToken}\r\nHost: x\r\n`;
  const seq = [
    `GET /v1/sys/key-status HTTP/1.1\r\n${tok}\r\n`,
    `LIST /v1/sys/key-status HTTP/1.1\r\n${tok}\r\n`,
    `POST /v1/sys/rotate HTTP/1.1\r\n${tok}Content-Length: 2\r\n\r\n{}`,
    `LIST /v1/sys/key-status HTTP/1.1\r\n${tok}Content-Length: 0\r\n\r\n`,
    `GET /v1/sys/key-status HTTP/1.1\r\n${tok}\r\n`,
  ];
  assert.deepEqual(await raw(seq.join('')), [200, 405, 204, 405, 200]);
});

test('a few thousand random malformed requests: no 5xx, no crash, server still healthy', async () => {
  let seed = 0x1234abcd;
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)]!;
  const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'LIST', 'HEAD', 'OPTIONS', 'LOCK', 'G ET', 'list', '', 'POST\t'];
  const paths = ['/v1/sys/health', '/v1/sys/rotate', '/v1/secret/../sys/seal', '/v1/%2e%2e/sys/seal', '/v1//sys//x', '/v1/sys%2Fseal', '/v1/\u00ff', '/v1/sys/unseal', '/v1/sys/init', '/v1/a%zz', '/', '*', '/v1/sys/key-status?list=%', '/v1/sys/health?standbycode=abc'];
  const bodies = ['', '{', '{"key":1}', '{"key":"zz"}', 'null', '[]', '\u0000\u0001', '{"a":"\\ud800"}', '{"secret_shares":"x"}', '%%%', 'x'.repeat(5000)];
  const seen = new Map<number, number>();
  const batch = async (): Promise<void> => {
    const parts: string[] = [];
    for (let i = 0; i < 5; i++) {
      const body = pick(bodies);
      const headers = [`Host: x`, rnd(2) ? `X-Vault-Token: ${s.rootToken}` : 'X-Vault-Token: bogus', rnd(3) ? `Content-Length: ${Buffer.byteLength(body) + (rnd(6) === 0 ? 3 : 0)}` : 'Transfer-Encoding: chunked', rnd(4) === 0 ? 'Content-Type: application/merge-patch+json' : 'Content-Type: application/json'];
      const b = headers.includes('Transfer-Encoding: chunked') ? `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n` : body;
      parts.push(`${pick(methods)} ${pick(paths)} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n${b}`);
    }
    let bytes = parts.join('');
    if (rnd(5) === 0) bytes = bytes.slice(0, rnd(bytes.length));
    for (const st of await raw(bytes, 60)) seen.set(st, (seen.get(st) ?? 0) + 1);
  };
  for (let round = 0; round < 80; round++) await Promise.all(Array.from({ length: 10 }, batch));
  // 4,000 requests go out; a malformed one ends its connection, so fewer are answered.
  const total = [...seen.values()].reduce((a, b) => a + b, 0);
  assert.ok(total > 500, `only ${total} responses`);
  const fives = [...seen.entries()].filter(([st]) => st >= 500);
  assert.deepEqual(fives, [], `5xx answers: ${JSON.stringify(fives)}`);
  assert.equal((await s.call('GET', 'sys/health')).status, 200);
});

test('TLS listener: TLS 1.2 minimum, LIST on a keep-alive connection with GET and POST', async () => {
  const dir = tmpDir('tls');
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  const config = sqliteConfig(join(dir, 'coffer.db'));
  const t = await startConfiguredServer({ ...config, listeners: [{ type: 'tcp', host: '127.0.0.1', port: 0, tls: { certFile: cert, keyFile: key, minVersion: 'TLSv1.2' } }] });
  assert.match(t.addr, /^https:/);
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
  const req = (method: string, path: string, body?: string): Promise<{ status: number; reused: boolean }> => new Promise((resolve, reject) => {
    const r = https.request(`${t.addr}/v1/${path}`, { method, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: r.reusedSocket }));
    });
    r.on('error', reject);
    r.end(body);
  });
  const init = await req('PUT', 'sys/init', JSON.stringify({ secret_shares: 1, secret_threshold: 1 }));
  assert.equal(init.status, 200);
  const results = [await req('LIST', 'sys/seal-status'), await req('GET', 'sys/seal-status'), await req('LIST', 'sys/anything'), await req('POST', 'sys/unseal', '{"reset":true}'), await req('GET', 'sys/health')];
  assert.deepEqual(results.map((r) => r.status), [405, 200, 503, 200, 503]);
  assert.ok(results.slice(1).every((r) => r.reused), 'one keep-alive connection');
  agent.destroy();
  await assert.rejects(new Promise((resolve, reject) => {
    const r = https.request(`${t.addr}/v1/sys/health`, { maxVersion: 'TLSv1.1', minVersion: 'TLSv1', rejectUnauthorized: false }, resolve);
    r.on('error', reject);
    r.end();
  }));
  void http;
});
