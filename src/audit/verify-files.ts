import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { verifyLines, type SourceLine, type VerifyOptions, type VerifyReport } from './verify.js';

/** A file's lines, streamed (rotated `.gz` files are decompressed); a last line without a newline is marked incomplete. */
export async function* readAuditLines(path: string): AsyncGenerator<SourceLine> {
  let stream: Readable = createReadStream(path);
  if (path.endsWith('.gz')) stream = stream.pipe(createGunzip());
  let rest = '';
  let n = 0;
  stream.setEncoding('utf8');
  for await (const chunk of stream as AsyncIterable<string>) {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const text of parts) yield { file: path, line: ++n, text, complete: true };
  }
  if (rest !== '') yield { file: path, line: ++n, text: rest, complete: false };
}

/** The seq of a file's first chained line, to put a rotated series in order. */
async function firstSeq(path: string): Promise<number | undefined> {
  let seen = 0;
  for await (const l of readAuditLines(path)) {
    const m = /\{"seq":(\d+),/.exec(l.text);
    if (m) return Number(m[1]);
    if (++seen >= 16) return undefined;
  }
  return undefined;
}

/** The device path named by the first checkpoint found near the start of the files. */
export async function peekDevice(paths: readonly string[]): Promise<string | undefined> {
  for (const p of paths) {
    let seen = 0;
    for await (const l of readAuditLines(p)) {
      const m = /"type":"checkpoint".*?"device":"((?:[^"\\]|\\.)*)"/.exec(l.text);
      if (m) return JSON.parse(`"${m[1]!}"`) as string;
      if (++seen >= 64) break;
    }
  }
  return undefined;
}

/**
 * Verifies one file or a rotated series. The files are put in chain order by the seq they start
 * with, so `audit.log*` (which a shell lists newest first) works as given.
 */
export async function verifyFiles(paths: readonly string[], options: VerifyOptions = {}): Promise<VerifyReport & { files: string[] }> {
  const starts = await Promise.all(paths.map(async (p, i) => ({ p, i, seq: await firstSeq(p) })));
  const files = starts
    .sort((a, b) => (a.seq ?? Number.MAX_SAFE_INTEGER) - (b.seq ?? Number.MAX_SAFE_INTEGER) || a.i - b.i)
    .map((s) => s.p);
  async function* all(): AsyncGenerator<SourceLine> {
    for (const f of files) yield* readAuditLines(f);
  }
  return { ...(await verifyLines(all(), options)), files };
}
