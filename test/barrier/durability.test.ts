import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Barrier } from '../../src/barrier/index.js';
import { SqliteStorage } from '../../src/storage/index.js';
import { tmpDir } from '../helpers/tmp.js';

const RUNS = 20;

/** Starts the writer, lets it write for a random while after it is ready, then SIGKILLs it. */
function killWhileWriting(dbPath: string, rootKey: string, run: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'writer.ts'), dbPath, rootKey, String(run)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: string[] = [];
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line === 'ready') setTimeout(() => child.kill('SIGKILL'), 50 + Math.floor(Math.random() * 250));
      else if (line.startsWith('ack ')) acked.push(line.slice(4));
    });
    child.on('exit', (_code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`writer exited without being killed: ${stderr}`));
      else resolve(acked);
    });
  });
}

test(`T3: kill -9 during acknowledged barrier writes, ${RUNS} times: nothing acknowledged is lost`, async () => {
  const dbPath = join(tmpDir('durability'), 'coffer.db');
  const rootKey = randomBytes(32).toString('hex');
  const acked: string[] = [];
  for (let run = 0; run < RUNS; run++) acked.push(...(await killWhileWriting(dbPath, rootKey, run)));
  assert.ok(acked.length > RUNS, `only ${acked.length} writes were acknowledged`);

  const barrier = new Barrier(new SqliteStorage({ path: dbPath }));
  await barrier.unseal(Buffer.from(rootKey, 'hex'));
  for (const key of acked) {
    const [, run, k] = /^logical\/run(\d+)\/k(\d+)$/.exec(key)!;
    const value = await barrier.get(key);
    assert.equal(value && Buffer.from(value).toString(), `value-${run}-${k}`, `acknowledged write ${key} lost`);
  }
  // Every record that did reach storage (acknowledged or not) is readable: none is torn.
  for (let run = 0; run < RUNS; run++) {
    for (const k of await barrier.list(`logical/run${run}/`)) await barrier.get(`logical/run${run}/${k}`);
  }
  await barrier.close();
});
