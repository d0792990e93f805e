import { GENESIS_HASH, parseChainLine, type ParsedLine } from './line.js';
import type { CheckpointClaim, StoredCheckpoint } from './types.js';

/**
 * Walks audit lines (one file or a rotated series, oldest first) and finds the first place the
 * chain breaks, saying how: a line was edited, removed, moved, or the file was cut. Checkpoint
 * MACs and the server's latest checkpoint are checked afterwards by checkAgainstServer.
 */

export type IssueKind = 'edited' | 'removed' | 're-ordered' | 'truncated' | 'not-authentic';

export interface VerifyIssue {
  readonly file: string;
  /** 1-based line number in `file`. */
  readonly line: number;
  readonly kind: IssueKind;
  readonly message: string;
}

export interface SourceLine {
  readonly file: string;
  readonly line: number;
  readonly text: string;
  /** False for a last line that has no newline (the file was cut mid-line). */
  readonly complete: boolean;
}

export interface SeenCheckpoint {
  readonly file: string;
  readonly line: number;
  readonly hash: string;
  readonly device: string;
  readonly claim: CheckpointClaim;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly issue: VerifyIssue | undefined;
  readonly lines: number;
  readonly entries: number;
  readonly checkpoints: readonly SeenCheckpoint[];
  readonly firstSeq: number | undefined;
  readonly lastSeq: number | undefined;
  /** Where the last line was (for "the tail was cut after ..."). */
  readonly last: { readonly file: string; readonly line: number } | undefined;
}

export interface VerifyOptions {
  /** The lines are an excerpt: do not require the first one to be a checkpoint. */
  readonly partial?: boolean;
}

/** Checkpoints a file may start with. */
const OPENING = new Set(['enable', 'open', 'resume']);
const LOOKAHEAD = 256;
const SEQ_PREFIX = /\{"seq":(\d+),/;

export async function verifyLines(source: AsyncIterable<SourceLine> | Iterable<SourceLine>, options: VerifyOptions = {}): Promise<VerifyReport> {
  const input = new Peekable(source);
  const checkpoints: SeenCheckpoint[] = [];
  /** Hashes of checkpoint lines by seq: a resume after an unclean stop forks from one of them. */
  const checkpointHashes = new Map<number, string[]>();
  let prev: { seq: number; hash: string; file: string; line: number } | undefined;
  let lines = 0;
  let entries = 0;
  let firstSeq: number | undefined;

  const report = (issue: VerifyIssue | undefined): VerifyReport => ({
    ok: issue === undefined, issue, lines, entries, checkpoints, firstSeq, lastSeq: prev?.seq, last: prev && { file: prev.file, line: prev.line },
  });

  for (let l = await input.next(); l !== undefined; l = await input.next()) {
    lines += 1;
    const at = (kind: IssueKind, message: string, where: { file: string; line: number } = l): VerifyReport => report({ file: where.file, line: where.line, kind, message });
    if (!l.complete) return at('truncated', 'the last line is incomplete: the file was cut in the middle of an entry');
    const parsed = parseChainLine(l.text);
    if (!parsed) return at('edited', 'not an audit entry (the line was changed or inserted)');
    if (!parsed.intact) return at('edited', `entry seq ${parsed.seq} does not match its own hash: the line was changed`);
    const reason = checkpointReason(parsed);

    if (prev === undefined) {
      if (!options.partial && (reason === undefined || !OPENING.has(reason))) {
        return at('removed', 'the log does not start with a checkpoint: the line(s) before this one were removed (use --partial for an excerpt)');
      }
      if (reason === 'enable' && (parsed.seq !== 1 || parsed.prevHash !== GENESIS_HASH)) return at('edited', 'a chain-opening checkpoint must be seq 1');
      firstSeq = parsed.seq;
    } else {
      const expected = prev.seq + 1;
      const newChain = reason === 'enable' && parsed.seq === 1 && parsed.prevHash === GENESIS_HASH;
      const resumed = reason === 'resume' && parsed.seq <= expected && (checkpointHashes.get(parsed.seq - 1)?.includes(parsed.prevHash) ?? false);
      if (newChain || resumed) {
        // A device re-enabled at the same path starts a new chain; a restart after an unclean stop
        // continues from the last stored checkpoint, after the lines the old run wrote past it.
      } else if (parsed.seq === expected) {
        if (parsed.prevHash !== prev.hash) {
          return at('edited', `entry seq ${prev.seq} was changed: its hash differs from the prev_hash that the next entry recorded`, prev);
        }
      } else if (parsed.seq > expected) {
        const later = await input.find((x) => seqOf(x.text) === expected, LOOKAHEAD);
        if (later) return at('re-ordered', `entry seq ${parsed.seq} comes before seq ${expected} (at ${later.file}:${later.line}): lines were moved`);
        const missing = parsed.seq - expected;
        return at('removed', `entr${missing === 1 ? 'y' : 'ies'} seq ${expected}${missing === 1 ? '' : `-${parsed.seq - 1}`} missing: ${missing} line${missing === 1 ? ' was' : 's were'} removed before this line`);
      } else {
        return at('re-ordered', `entry seq ${parsed.seq} comes after seq ${prev.seq}: lines were moved or duplicated`);
      }
    }

    if (reason !== undefined) {
      const e = parsed.entry;
      const claim: CheckpointClaim = {
        chain: str(e['chain']), seq: parsed.seq, prev_hash: parsed.prevHash, time: str(e['time']), reason, mac: str(e['mac']),
      };
      checkpoints.push({ file: l.file, line: l.line, hash: parsed.hash, device: str(e['device']), claim });
      const list = checkpointHashes.get(parsed.seq) ?? [];
      list.push(parsed.hash);
      checkpointHashes.set(parsed.seq, list);
    } else {
      entries += 1;
    }
    prev = { seq: parsed.seq, hash: parsed.hash, file: l.file, line: l.line };
  }
  return report(undefined);
}

/** What the server said about the checkpoints (POST sys/audit-verify/:path). */
export interface ServerVerdict {
  readonly chain: string;
  /** One per checkpoint of the report, in order. */
  readonly results: readonly boolean[];
  readonly latest: StoredCheckpoint | null;
}

/**
 * Checks the server's verdict: every checkpoint of the device's current chain must carry a MAC
 * made with the device's key, and the log must reach the newest checkpoint the device wrote —
 * a log that ends before it had its tail cut.
 */
export function checkAgainstServer(report: VerifyReport, verdict: ServerVerdict): VerifyIssue | undefined {
  const cps = report.checkpoints;
  const start = cps.findIndex((c) => c.claim.chain === verdict.chain);
  if (start < 0) {
    const where = report.last ?? { file: '', line: 0 };
    return { ...where, kind: 'not-authentic', message: `no checkpoint of the device's current chain (${verdict.chain}) is in these lines` };
  }
  // Checkpoints of an earlier chain (before a disable and re-enable) cannot be checked: their key is gone.
  for (let i = start; i < cps.length; i++) {
    if (verdict.results[i] !== true) {
      const c = cps[i]!;
      return { file: c.file, line: c.line, kind: 'not-authentic', message: `checkpoint seq ${c.claim.seq} does not carry the server's MAC: it was forged or altered` };
    }
  }
  const latest = verdict.latest;
  if (!latest) return undefined;
  const match = [...cps].reverse().find((c) => c.claim.chain === verdict.chain && c.claim.seq === latest.seq);
  if (match) {
    if (match.hash === latest.hash) return undefined;
    return { file: match.file, line: match.line, kind: 'edited', message: `checkpoint seq ${latest.seq} differs from the one the server recorded` };
  }
  const last = report.last ?? { file: '', line: 0 };
  if ((report.lastSeq ?? 0) < latest.seq) {
    return {
      file: last.file, line: last.line + 1, kind: 'truncated',
      message: `the log ends at seq ${report.lastSeq ?? 0}, but the server's latest checkpoint is seq ${latest.seq} (${latest.time}): the tail was cut after line ${last.line}`,
    };
  }
  return { file: last.file, line: last.line, kind: 'removed', message: `the server's latest checkpoint (seq ${latest.seq}) is not in the log` };
}

function checkpointReason(p: ParsedLine): string | undefined {
  return p.entry['type'] === 'checkpoint' && typeof p.entry['reason'] === 'string' ? p.entry['reason'] : undefined;
}

function seqOf(text: string): number | undefined {
  const m = SEQ_PREFIX.exec(text);
  return m ? Number(m[1]) : undefined;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** An iterator with a bounded look-ahead, so a gap can be told apart from a moved line. */
class Peekable<T> {
  readonly #it: AsyncIterator<T> | Iterator<T>;
  readonly #ahead: T[] = [];
  #done = false;

  constructor(source: AsyncIterable<T> | Iterable<T>) {
    this.#it = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
  }

  async next(): Promise<T | undefined> {
    if (this.#ahead.length > 0) return this.#ahead.shift();
    return this.#pull();
  }

  async find(pred: (x: T) => boolean, max: number): Promise<T | undefined> {
    const hit = this.#ahead.find(pred);
    if (hit !== undefined) return hit;
    while (this.#ahead.length < max) {
      const x = await this.#pull();
      if (x === undefined) return undefined;
      this.#ahead.push(x);
      if (pred(x)) return x;
    }
    return undefined;
  }

  async #pull(): Promise<T | undefined> {
    if (this.#done) return undefined;
    const r = await this.#it.next();
    if (r.done) {
      this.#done = true;
      return undefined;
    }
    return r.value;
  }
}
