/**
 * The bytes and words the LIST tracker (./tracker.ts) must recognise, as llhttp's strict mode
 * reads them: byte classes, method and header-name candidate tables, limits.
 */

export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const HT = 0x09;
export const COLON = 0x3a;
export const SEMICOLON = 0x3b;

// Method candidates, one bit each.
export const M_LIST = 1;
export const M_LOCK = 2;
export const M_CONNECT = 4;
export const M_PRI = 8;
export const M_ALL = M_LIST | M_LOCK | M_CONNECT | M_PRI;
export const MAX_METHOD_LENGTH = 16; // llhttp's longest method is 11 bytes

// Header-name candidates, one bit each.
export const H_CONTENT_LENGTH = 1;
export const H_TRANSFER_ENCODING = 2;
export const H_UPGRADE = 4;
export const H_ALL = H_CONTENT_LENGTH | H_TRANSFER_ENCODING | H_UPGRADE;
export const MAX_NAME_MATCH = 17; // 'transfer-encoding'

export const CHUNKED = 'chunked';
// Above these we stop instead of risking float imprecision; llhttp allows more but nobody sends it.
export const MAX_CONTENT_LENGTH = 1e14;
export const MAX_CHUNK_SIZE = 2 ** 48;
export const VERSION_TAIL = 11; // x + ' HTTP/1.1\r': a target byte, then the version

/** RFC 9110 tchar: the only bytes llhttp accepts in a header name. */
export const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;
/** Bytes llhttp accepts in a method token. */
export const METHOD_CHAR = new Uint8Array(256);
for (const c of '-ABCDEFGHIJKLMNOPQRSTUVWXYZ') METHOD_CHAR[c.charCodeAt(0)] = 1;
export const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX['0123456789abcdef'.charCodeAt(i)] = i;
  HEX['0123456789ABCDEF'.charCodeAt(i)] = i;
}

/** table[i << 8 | byte] = candidates whose i-th character is `byte` (case-insensitively if `fold`). */
function candidateTable(candidates: ReadonlyArray<readonly [string, number]>, width: number, fold: boolean): Uint8Array {
  const table = new Uint8Array(width << 8);
  for (const [word, bit] of candidates) {
    for (let i = 0; i < word.length; i++) {
      const c = word.charCodeAt(i);
      table[(i << 8) | c]! |= bit;
      if (fold) {
        table[(i << 8) | word.toUpperCase().charCodeAt(i)]! |= bit;
      }
    }
  }
  return table;
}
export const METHOD_MATCH = candidateTable([['LIST', M_LIST], ['LOCK', M_LOCK], ['CONNECT', M_CONNECT], ['PRI', M_PRI]], 7, false);
export const NAME_MATCH = candidateTable(
  [['content-length', H_CONTENT_LENGTH], ['transfer-encoding', H_TRANSFER_ENCODING], ['upgrade', H_UPGRADE]],
  MAX_NAME_MATCH,
  true,
);

export const VERSION_PREFIX = Buffer.from(' HTTP/1.', 'latin1');

export function lookup(table: Uint8Array, index: number, byte: number): number {
  return table[(index << 8) | byte]!;
}
