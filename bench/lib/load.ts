import { createRequire } from 'node:module';
import autocannon from 'autocannon';

// autocannon refuses methods outside its own list; Vault clients send LIST, so add it there.
const autocannonMethods: unknown = createRequire(import.meta.url)('autocannon/lib/httpMethods');
if (Array.isArray(autocannonMethods) && !autocannonMethods.includes('LIST')) autocannonMethods.push('LIST');
import { cpuSeconds, rssMiB } from './proc.js';

export interface LoadSpec {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  connections?: number;
  /** Requests built per call (e.g. distinct paths for writes). */
  requests?: autocannon.Request[];
}

export interface Measured {
  reqPerSec: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  serverCpu: number;
  rssMiB: number;
}

export interface Summary {
  median: Measured;
  runs: number[];
  spreadPct: number;
}

async function once(spec: LoadSpec, seconds: number, pid: number | undefined): Promise<Measured> {
  const cpu0 = pid ? cpuSeconds(pid) : NaN;
  const result = await autocannon({
    url: spec.url,
    method: (spec.method ?? 'GET') as autocannon.Request['method'],
    headers: spec.headers ?? {},
    ...(spec.body === undefined ? {} : { body: spec.body }),
    ...(spec.requests ? { requests: spec.requests } : {}),
    connections: spec.connections ?? 50,
    duration: seconds,
  });
  const cpu1 = pid ? cpuSeconds(pid) : NaN;
  return {
    reqPerSec: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    serverCpu: (cpu1 - cpu0) / seconds,
    rssMiB: pid ? rssMiB(pid) : NaN,
  };
}

/** Warm-up, then `reps` measured runs; the median run by req/s is reported, with the spread. */
export async function measure(spec: LoadSpec, opts: { warmup: number; seconds: number; reps: number; pid?: number }): Promise<Summary> {
  if (opts.warmup > 0) await once(spec, opts.warmup, undefined);
  const runs: Measured[] = [];
  for (let i = 0; i < opts.reps; i++) runs.push(await once(spec, opts.seconds, opts.pid));
  runs.sort((a, b) => a.reqPerSec - b.reqPerSec);
  const median = runs[Math.floor(runs.length / 2)]!;
  const lo = runs[0]!.reqPerSec;
  const hi = runs[runs.length - 1]!.reqPerSec;
  return { median, runs: runs.map((r) => Math.round(r.reqPerSec)), spreadPct: median.reqPerSec > 0 ? Math.round(((hi - lo) / median.reqPerSec) * 1000) / 10 : 0 };
}
