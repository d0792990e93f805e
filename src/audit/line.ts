import { createHmac, hash as sha, timingSafeEqual } from 'node:crypto';
import { HMAC_PREFIX } from './hmac.js';

/**
 * The chained line format. Every line a device writes is one JSON object that starts with the
 * chain fields and ends with its own hash:
 *
 *   {"seq":N,"prev_hash":"<hex>",<entry fields...>,"hash":"<hex>"}
 *
 * `hash` is the SHA-256 of every byte of the line before `,"hash":` and `prev_hash` is the
 * previous line's `hash`, so a line cannot be edited, removed or moved without the chain
 * saying where. A device's `prefix` option goes before the `{`; verification skips it.
 */

/** The prev_hash of a chain's first line. */
export const GENESIS_HASH = '0'.repeat(64);

const HASH_SUFFIX_LENGTH = ',"hash":"'.length + 64 + '"}'.length;
const HASH_SUFFIX = /,"hash":"([0-9a-f]{64})"\}$/;
const LINE_START = '{"seq":';

/** Chains `body` (a JSON object's text) after the line whose hash is `prevHash`. */
export function chainLine(seq: number, prevHash: string, body: string): { text: string; hash: string } {
  const inner = body.length > 2 ? `,${body.slice(1, -1)}` : '';
  const head = `${LINE_START}${seq},"prev_hash":"${prevHash}"${inner}`;
  const hash = sha('sha256', head, 'hex');
  return { text: `${head},"hash":"${hash}"}`, hash };
}

export interface ParsedLine {
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
  /** sha256 of the bytes before the hash matches `hash`. */
  readonly intact: boolean;
  readonly entry: Record<string, unknown>;
}

/** Parses one line (its prefix, if any, is skipped); undefined when it is not a chained line at all. */
export function parseChainLine(raw: string): ParsedLine | undefined {
  const start = raw.indexOf(LINE_START);
  if (start < 0) return undefined;
  const text = raw.slice(start);
  const m = HASH_SUFFIX.exec(text);
  if (!m || text.length < HASH_SUFFIX_LENGTH) return undefined;
  let entry: unknown;
  try {
    entry = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return undefined;
  const e = entry as Record<string, unknown>;
  const seq = e['seq'];
  const prevHash = e['prev_hash'];
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1 || typeof prevHash !== 'string') return undefined;
  const hash = m[1]!;
  const actual = sha('sha256', text.slice(0, text.length - HASH_SUFFIX_LENGTH), 'hex');
  return { seq, prevHash, hash, intact: actual === hash, entry: e };
}

/** The exact bytes a checkpoint's MAC covers: which chain, where in it, when and why. */
function macInput(c: { chain: string; seq: number; prev_hash: string; time: string; reason: string }): string {
  return `coffer-audit-checkpoint/v1\n${c.chain}\n${c.seq}\n${c.prev_hash}\n${c.time}\n${c.reason}`;
}

export function checkpointMac(key: Uint8Array, c: { chain: string; seq: number; prev_hash: string; time: string; reason: string }): string {
  return HMAC_PREFIX + createHmac('sha256', key).update(macInput(c)).digest('hex');
}

/** Constant-time check of a checkpoint's MAC against the key (which never leaves the server). */
export function checkpointMacValid(key: Uint8Array, c: { chain: string; seq: number; prev_hash: string; time: string; reason: string; mac: string }): boolean {
  const expected = Buffer.from(checkpointMac(key, c));
  const given = Buffer.from(c.mac);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
