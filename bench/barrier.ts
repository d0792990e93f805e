// In-process barrier throughput: encrypt+decrypt of a 1 KiB record through the real Barrier
// over inmem storage (so storage cost is excluded). Run: node --import tsx bench/barrier.ts
import { randomBytes } from 'node:crypto';
import { Barrier } from '../src/barrier/index.js';
import { InmemStorage } from '../src/storage/index.js';

// The read cache is off: this measures the AES-GCM path of every get, not a cache hit.
const barrier = new Barrier(new InmemStorage(), { cacheEntries: 0 });
await barrier.initialize(randomBytes(32));
const value = randomBytes(1024);
const N = 50_000;
for (let i = 0; i < 2_000; i++) { await barrier.put('logical/w', value); await barrier.get('logical/w'); }
const results: number[] = [];
for (let rep = 0; rep < 3; rep++) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    await barrier.put(`logical/k${i & 1023}`, value);
    await barrier.get(`logical/k${i & 1023}`);
  }
  results.push(N / (Number(process.hrtime.bigint() - t0) / 1e9));
}
results.sort((a, b) => a - b);
console.log(JSON.stringify({ scenario: 'barrier put+get 1KiB (inmem)', median_ops_per_s: Math.round(results[1]!), runs: results.map(Math.round) }));
