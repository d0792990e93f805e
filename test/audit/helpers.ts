import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { parseChainLine, type ParsedLine } from '../../src/audit/line.js';
import type { TestServer } from '../helpers/server.js';

/** Every line of an audit file, parsed (a line that is not a chain line fails the test). */
export async function readLog(path: string): Promise<ParsedLine[]> {
  const text = await readFile(path, 'utf8');
  const lines = text.split('\n');
  assert.equal(lines.pop(), '', 'an audit file ends with a newline');
  return lines.map((l, i) => {
    const p = parseChainLine(l);
    assert.ok(p, `line ${i + 1} is a chain line: ${l.slice(0, 120)}`);
    return p;
  });
}

/** The request/response entries (not checkpoints) for one request path. */
export function entriesFor(log: readonly ParsedLine[], path: string): Array<Record<string, unknown>> {
  return log.map((l) => l.entry).filter((e) => e['type'] !== 'checkpoint' && (e['request'] as { path?: string } | undefined)?.path === path);
}

export async function enableFile(s: TestServer, name: string, filePath: string, options: Record<string, string> = {}): Promise<void> {
  const r = await s.call('PUT', `sys/audit/${name}`, { type: 'file', description: `${name} log`, options: { file_path: filePath, ...options } });
  assert.equal(r.status, 204, JSON.stringify(r.body));
}

export function obj(v: unknown): Record<string, unknown> {
  assert.ok(typeof v === 'object' && v !== null && !Array.isArray(v), `expected an object, got ${JSON.stringify(v)}`);
  return v as Record<string, unknown>;
}

/** Runs `fn` for 0..n-1 with at most `width` in flight. */
export async function pool<T>(n: number, width: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array<T>(n);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, n) }, async () => {
    while (next < n) {
      const i = next++;
      out[i] = await fn(i);
    }
  }));
  return out;
}
