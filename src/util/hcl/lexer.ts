/** The tokens of HCL 1, as Vault reads it; ./hcl-reader.ts says which syntax that is. */
import { ConfigError } from './config-error.js';

export type Punct = '{' | '}' | '[' | ']' | '=' | ',';

export type Token =
  | { readonly t: 'ident'; readonly v: string; readonly line: number }
  | { readonly t: 'string'; readonly v: string; readonly line: number }
  | { readonly t: 'number'; readonly v: number; readonly line: number }
  | { readonly t: 'bool'; readonly v: boolean; readonly line: number }
  | { readonly t: 'punct'; readonly v: Punct; readonly line: number }
  | { readonly t: 'eof'; readonly line: number };

const IDENT_START = /[A-Za-z_]/;
const IDENT_CHAR = /[A-Za-z0-9_.-]/;
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"',
};

export function describeToken(tok: Token): string {
  switch (tok.t) {
    case 'eof':
      return 'the end of the file';
    case 'punct':
      return `"${tok.v}"`;
    case 'string':
      return 'a string';
    case 'ident':
      return `"${tok.v}"`;
    default:
      return String(tok.v);
  }
}

export class HclLexer {
  private pos = 0;
  private line = 1;

  constructor(
    private readonly src: string,
    private readonly file: string,
  ) {}

  private fail(problem: string, line = this.line): never {
    throw new ConfigError(`HCL syntax error: ${problem}`, { file: this.file, line });
  }

  tokens(): Token[] {
    const out: Token[] = [];
    for (;;) {
      const tok = this.next();
      out.push(tok);
      if (tok.t === 'eof') return out;
    }
  }

  private next(): Token {
    const src = this.src;
    for (;;) {
      const c = src[this.pos];
      if (c === undefined) return { t: 'eof', line: this.line };
      if (c === '\n') {
        this.line++;
        this.pos++;
      } else if (c === ' ' || c === '\t' || c === '\r') {
        this.pos++;
      } else if (c === '#' || (c === '/' && src[this.pos + 1] === '/')) {
        while (this.pos < src.length && src[this.pos] !== '\n') this.pos++;
      } else if (c === '/' && src[this.pos + 1] === '*') {
        const startLine = this.line;
        const end = src.indexOf('*/', this.pos + 2);
        if (end < 0) this.fail('comment /* is not closed', startLine);
        this.countLines(this.pos, end + 2);
        this.pos = end + 2;
      } else {
        break;
      }
    }
    const c = src[this.pos] ?? '';
    const line = this.line;
    if ('{}[]=,'.includes(c)) {
      this.pos++;
      return { t: 'punct', v: c as Punct, line };
    }
    if (c === '"') return { t: 'string', v: this.string(), line };
    if (c === '<' && src[this.pos + 1] === '<') return { t: 'string', v: this.heredoc(), line };
    if (c === '-' || (c >= '0' && c <= '9')) return { t: 'number', v: this.number(), line };
    if (IDENT_START.test(c)) {
      const start = this.pos;
      while (this.pos < src.length && IDENT_CHAR.test(src[this.pos] ?? '')) this.pos++;
      const word = src.slice(start, this.pos);
      if (word === 'true' || word === 'false') return { t: 'bool', v: word === 'true', line };
      return { t: 'ident', v: word, line };
    }
    if (c === ':') this.fail('unexpected ":" (HCL uses "=", as in key = value)');
    return this.fail(`unexpected character ${JSON.stringify(c)}`);
  }

  private countLines(from: number, to: number): void {
    for (let i = from; i < to; i++) if (this.src[i] === '\n') this.line++;
  }

  private string(): string {
    const src = this.src;
    const startLine = this.line;
    let out = '';
    this.pos++; // opening quote
    for (;;) {
      const c = src[this.pos];
      if (c === undefined || c === '\n') this.fail('string is not closed on the line it starts', startLine);
      if (c === '"') {
        this.pos++;
        return out;
      }
      if (c === '$' && src[this.pos + 1] === '{') {
        // An interpolation is kept as written (Vault does not evaluate it); it may hold quotes.
        out += this.interpolation();
        continue;
      }
      if (c === '\\') {
        out += this.escape();
        continue;
      }
      out += c;
      this.pos++;
    }
  }

  private interpolation(): string {
    const src = this.src;
    const start = this.pos;
    let depth = 0;
    while (this.pos < src.length) {
      const c = src[this.pos];
      if (c === '\n') break;
      if (c === '{') depth++;
      else if (c === '}') {
        depth--;
        if (depth === 0) {
          this.pos++;
          return src.slice(start, this.pos);
        }
      } else if (c === '"') {
        const close = src.indexOf('"', this.pos + 1);
        if (close < 0) break;
        this.pos = close;
      }
      this.pos++;
    }
    return this.fail('"${" in a string is not closed');
  }

  private escape(): string {
    const src = this.src;
    const e = src[this.pos + 1] ?? '';
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      this.pos += 2;
      return simple;
    }
    const hex = (len: number): string => {
      const digits = src.slice(this.pos + 2, this.pos + 2 + len);
      if (digits.length !== len || !/^[0-9A-Fa-f]+$/.test(digits)) this.fail(`invalid escape \\${e}${digits}`);
      const code = parseInt(digits, 16);
      if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) this.fail(`invalid escape \\${e}${digits}`);
      this.pos += 2 + len;
      return e === 'x' ? String.fromCharCode(code) : String.fromCodePoint(code);
    };
    if (e === 'x') return hex(2);
    if (e === 'u') return hex(4);
    if (e === 'U') return hex(8);
    if (e >= '0' && e <= '7') {
      const digits = src.slice(this.pos + 1, this.pos + 4);
      if (!/^[0-7]{3}$/.test(digits)) this.fail(`invalid escape \\${digits}`);
      this.pos += 4;
      return String.fromCharCode(parseInt(digits, 8) & 0xff);
    }
    return this.fail(`invalid escape \\${e} in a string`);
  }

  private heredoc(): string {
    const src = this.src;
    const startLine = this.line;
    const m = /^<<(-?)([A-Za-z_][A-Za-z0-9_-]*)\r?\n/.exec(src.slice(this.pos, this.pos + 260));
    if (m === null) this.fail('a heredoc starts with <<MARKER (or <<-MARKER) followed by a new line');
    const indented = m[1] === '-';
    const marker = m[2] ?? '';
    this.pos += m[0].length;
    this.line++;
    const lines: string[] = [];
    for (;;) {
      if (this.pos >= src.length) this.fail(`heredoc <<${marker} is not closed by a line "${marker}"`, startLine);
      const nl = src.indexOf('\n', this.pos);
      const end = nl < 0 ? src.length : nl;
      const text = src.slice(this.pos, end).replace(/\r$/, '');
      this.pos = nl < 0 ? src.length : nl + 1;
      if ((indented ? text.trim() : text.trimEnd()) === marker) {
        // The token after the closing marker starts on the next line.
        if (nl >= 0) this.line++;
        break;
      }
      lines.push(text);
      this.line++;
    }
    if (lines.length === 0) return '';
    if (indented) {
      const indents = lines.filter((l) => l.trim() !== '').map((l) => /^[ \t]*/.exec(l)?.[0].length ?? 0);
      const cut = indents.length === 0 ? 0 : Math.min(...indents);
      return lines.map((l) => l.slice(cut)).join('\n') + '\n';
    }
    return lines.join('\n') + '\n';
  }

  private number(): number {
    const src = this.src;
    const m = /^-?(?:0[xX][0-9A-Fa-f]+|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(src.slice(this.pos, this.pos + 400));
    const text = m?.[0] ?? '';
    const after = src[this.pos + text.length] ?? '';
    if (m === null || IDENT_CHAR.test(after)) {
      const word = /^[^\s,\]}]*/.exec(src.slice(this.pos))?.[0] ?? '';
      this.fail(`${JSON.stringify(word)} is not a number; quote text values, e.g. "${word}"`);
    }
    this.pos += text.length;
    const negative = text.startsWith('-');
    const digits = negative ? text.slice(1) : text;
    let value: number;
    if (/^0[xX]/.test(digits)) value = parseInt(digits.slice(2), 16);
    else if (/^0\d+$/.test(digits)) {
      // HCL 1 reads integers with a leading 0 as octal, as Go's strconv.ParseInt(s, 0, 64) does.
      if (!/^0[0-7]+$/.test(digits)) this.fail(`${text} is not a valid number (a leading 0 means octal)`);
      value = parseInt(digits, 8);
    } else value = Number(digits);
    return negative ? -value : value;
  }
}
