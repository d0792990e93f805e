import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDevServer } from '../helpers/server.js';
import { tmpDir } from '../helpers/tmp.js';

test('the SQLite files hold no token and no accessor in plaintext', async () => {
  const dir = tmpDir('coffer-token-storage');
  const s = await startDevServer({ dataDir: dir, rootToken: 'root-canary-token-0f3c' });
  const create = async (body: Record<string, unknown>): Promise<{ client_token: string; accessor: string }> => {
    const r = await s.call('POST', 'auth/token/create', body);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.auth;
  };
  assert.equal((await s.call('POST', 'auth/token/roles/r', { allowed_policies: 'default', orphan: true })).status, 204);
  const made = [
    await create({ policies: ['default'] }),
    await create({ policies: ['default'], id: 'custom-canary-token-77ab' }),
    await create({ policies: ['default'], type: 'batch', ttl: '1h' }),
    await create({ policies: ['default'], num_uses: 3 }),
  ];
  const viaRole = await s.call('POST', 'auth/token/create/r', {});
  made.push(viaRole.body.auth);
  const rootAccessor = (await s.call('GET', 'auth/token/lookup-self')).body.data.accessor as string;

  const needles = [s.rootToken, rootAccessor, ...made.flatMap((m) => [m.client_token, m.accessor])].filter((n) => n.length > 0);
  assert.ok(needles.length >= 10);
  const scan = (): void => {
    const files = readdirSync(dir).filter((f) => f.startsWith('coffer.db'));
    assert.ok(files.length > 0);
    // The scan does see plaintext: storage keys are not encrypted, and the token index is there.
    assert.ok(files.some((f) => readFileSync(join(dir, f)).includes(Buffer.from('sys/token/accessor/'))), 'the scan found not even the keys');
    for (const f of files) {
      const bytes = readFileSync(join(dir, f));
      for (const needle of needles) {
        assert.equal(bytes.includes(Buffer.from(needle, 'utf8')), false, `${f} holds a token or accessor in plaintext`);
      }
    }
  };
  scan();
  await s.server.close();
  scan();
});
