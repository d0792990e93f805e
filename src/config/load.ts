/**
 * Reading a config: the file, its syntax (HCL or JSON) into a plain tree that remembers the line
 * of every key, then validation (./schema.ts) and the checks that need the file system.
 *
 * HCL is parsed here, not by a dependency. Vault reads its config with HCL *1*
 * (github.com/hashicorp/hcl v1). The maintained npm HCL parsers are HCL 2 builds of hcl2json
 * (`hcl2-parser`, whose errors carry no message at all; `@cdktf/hcl2json`, a Go WebAssembly
 * runtime costing ~65 MB of memory and setting globals such as `globalThis.require`). HCL 2
 * refuses valid Vault configs such as `listener "tcp" { address = "..."  tls_disable = 1 }` on
 * one line, and neither says on which line a key is. This parser implements the HCL 1 syntax that
 * Vault configs use:
 *
 * - `key = value`, and blocks `type "label" ... { body }` (labels quoted or bare); items are
 *   separated by newlines, spaces or commas; a repeated block adds another block;
 * - values: "strings" (Go escapes; `${...}` is kept literally, as Vault does not interpolate),
 *   heredocs (`<<EOT` / `<<-EOT`), numbers (decimal, float, 0x hex, 0-prefixed octal), true/false,
 *   lists `[a, b,]` and objects `{ k = v }`;
 * - comments `#`, `//` and `/* *\/`.
 *
 * JSON is read by a small strict reader that records lines (and reports syntax errors with one);
 * `JSON.parse` then checks the same text, as a referee.
 */
import { readFile, stat, access } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import { extname } from 'node:path';
import { ConfigError, validateConfig, type LineLookup, type PlainObject, type ServerConfig } from './schema.js';

// ---------------------------------------------------------------------------------------------
// The syntax tree both parsers produce

type Scalar = string | number | boolean | null;

interface Entry {
  readonly key: string;
  readonly line: number;
  readonly value: Node;
}

type Node =
  | { readonly kind: 'scalar'; readonly value: Scalar; readonly line: number }
  | { readonly kind: 'list'; readonly items: readonly Node[]; readonly line: number }
  | { readonly kind: 'object'; readonly entries: readonly Entry[]; readonly line: number };

type ObjectNode = Extract<Node, { kind: 'object' }>;

/** Remembers the lines of the plain objects and lists made from a syntax tree. */
class SourceLines implements LineLookup {
  private readonly starts = new WeakMap<object, number>();
  private readonly keys = new WeakMap<object, Map<string, number>>();

  lineOf(obj: object): number | undefined {
    return this.starts.get(obj);
  }

  lineOfKey(obj: object, key: string): number | undefined {
    return this.keys.get(obj)?.get(key);
  }

  /**
   * The plain value of a node. A key given more than once becomes a list of its values when they
   * are all blocks/objects (repeated blocks, as in HCL), and is an error otherwise.
   */
  toPlain(node: Node, file: string): unknown {
    switch (node.kind) {
      case 'scalar':
        return node.value;
      case 'list': {
        const list = node.items.map((item) => this.toPlain(item, file));
        this.starts.set(list, node.line);
        return list;
      }
      case 'object':
        return this.objectToPlain(node, file);
    }
  }

  private objectToPlain(node: ObjectNode, file: string): PlainObject {
    const grouped = new Map<string, Entry[]>();
    for (const entry of node.entries) {
      const group = grouped.get(entry.key);
      if (group === undefined) grouped.set(entry.key, [entry]);
      else group.push(entry);
    }
    // Object.create(null): a key named "__proto__" or "constructor" is just a key.
    const obj = Object.create(null) as PlainObject;
    const lines = new Map<string, number>();
    for (const [key, entries] of grouped) {
      const [first, second] = entries;
      if (first === undefined) continue;
      lines.set(key, first.line);
      if (second === undefined) {
        obj[key] = this.toPlain(first.value, file);
        continue;
      }
      const repeated: unknown[] = [];
      for (const entry of entries) {
        const v = entry.value;
        if (v.kind === 'object') repeated.push(this.objectToPlain(v, file));
        else if (v.kind === 'list' && v.items.every((item) => item.kind === 'object')) {
          for (const item of v.items) repeated.push(this.toPlain(item, file));
        } else {
          const again = entries.find((e) => e !== first) ?? entry;
          throw new ConfigError(`is set more than once (first at line ${first.line})`, { file, key, line: again.line });
        }
      }
      this.starts.set(repeated, first.line);
      obj[key] = repeated;
    }
    this.starts.set(obj, node.line);
    this.keys.set(obj, lines);
    return obj;
  }
}

// ---------------------------------------------------------------------------------------------
// HCL (version 1 syntax, as Vault reads it)

type Punct = '{' | '}' | '[' | ']' | '=' | ',';

type Token =
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

function describeToken(tok: Token): string {
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

class HclLexer {
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

class HclParser {
  private i = 0;

  constructor(
    private readonly toks: readonly Token[],
    private readonly file: string,
  ) {}

  private peek(): Token {
    return this.toks[this.i] ?? { t: 'eof', line: this.toks[this.toks.length - 1]?.line ?? 1 };
  }

  private take(): Token {
    const tok = this.peek();
    if (this.i < this.toks.length) this.i++;
    return tok;
  }

  private isPunct(tok: Token, p: Punct): boolean {
    return tok.t === 'punct' && tok.v === p;
  }

  private fail(problem: string, line: number): never {
    throw new ConfigError(`HCL syntax error: ${problem}`, { file: this.file, line });
  }

  parseFile(): ObjectNode {
    return this.body(null, 1);
  }

  /** Items until `}` (inside a block or object, opened at `openLine`) or the end of the file. */
  private body(openLine: number | null, line: number): ObjectNode {
    const entries: Entry[] = [];
    for (;;) {
      const tok = this.peek();
      if (tok.t === 'eof') {
        if (openLine !== null) this.fail(`the "{" on line ${openLine} is never closed`, openLine);
        return { kind: 'object', entries, line };
      }
      if (this.isPunct(tok, '}')) {
        if (openLine === null) this.fail('unexpected "}" (no block is open)', tok.line);
        this.take();
        return { kind: 'object', entries, line };
      }
      entries.push(this.item());
      if (this.isPunct(this.peek(), ',')) this.take();
    }
  }

  private item(): Entry {
    const keys: Array<{ v: string; line: number }> = [];
    for (let tok = this.peek(); tok.t === 'ident' || tok.t === 'string'; tok = this.peek()) {
      keys.push({ v: tok.v, line: tok.line });
      this.take();
    }
    const first = keys[0];
    const tok = this.peek();
    if (first === undefined) this.fail(`expected a key, found ${describeToken(tok)}`, tok.line);
    if (this.isPunct(tok, '=')) {
      if (keys.length > 1) this.fail(`expected "{" after the block labels of "${first.v}", found "="`, tok.line);
      this.take();
      return { key: first.v, line: first.line, value: this.value() };
    }
    if (this.isPunct(tok, '{')) {
      this.take();
      let value: Node = this.body(tok.line, tok.line);
      // `type "a" "b" { body }` is `type = { a = { b = { body } } }`.
      for (let k = keys.length - 1; k >= 1; k--) {
        const label = keys[k];
        if (label === undefined) continue;
        value = { kind: 'object', entries: [{ key: label.v, line: label.line, value }], line: label.line };
      }
      return { key: first.v, line: first.line, value };
    }
    const last = keys[keys.length - 1] ?? first;
    return this.fail(`expected "=" or "{" after "${last.v}", found ${describeToken(tok)}`, tok.line);
  }

  private value(): Node {
    const tok = this.take();
    switch (tok.t) {
      case 'string':
      case 'number':
      case 'bool':
        return { kind: 'scalar', value: tok.v, line: tok.line };
      case 'ident':
        return this.fail(`unquoted value ${tok.v}; strings must be in double quotes, e.g. "${tok.v}"`, tok.line);
      case 'eof':
        return this.fail('expected a value, found the end of the file', tok.line);
      case 'punct':
        if (tok.v === '{') return this.body(tok.line, tok.line);
        if (tok.v === '[') return this.list(tok.line);
        return this.fail(`expected a value, found "${tok.v}"`, tok.line);
    }
  }

  private list(line: number): Node {
    const items: Node[] = [];
    for (;;) {
      const tok = this.peek();
      if (this.isPunct(tok, ']')) {
        this.take();
        return { kind: 'list', items, line };
      }
      if (tok.t === 'eof') this.fail(`the "[" on line ${line} is never closed`, line);
      items.push(this.value());
      const sep = this.peek();
      if (this.isPunct(sep, ',')) this.take();
      else if (!this.isPunct(sep, ']')) this.fail(`expected "," or "]" in a list, found ${describeToken(sep)}`, sep.line);
    }
  }
}

function parseHcl(text: string, file: string): ObjectNode {
  return new HclParser(new HclLexer(text, file).tokens(), file).parseFile();
}

// ---------------------------------------------------------------------------------------------
// JSON with lines

function parseJson(text: string, file: string): Node {
  const node = new JsonLineReader(text, file).read();
  // The reader is strict JSON; JSON.parse is the referee all the same.
  try {
    JSON.parse(text);
  } catch {
    // (V8's message may quote part of the file, which may hold a secret: it is not shown.)
    throw new ConfigError('JSON syntax error', { file });
  }
  return node;
}

/** A strict JSON reader that records the line of every key and reports errors with a line. */
class JsonLineReader {
  private pos = 0;
  private line = 1;

  constructor(
    private readonly src: string,
    private readonly file: string,
  ) {}

  private fail(problem: string): never {
    throw new ConfigError(`JSON syntax error: ${problem}`, { file: this.file, line: this.line });
  }

  private found(): string {
    const c = this.src[this.pos];
    return c === undefined ? 'the end of the file' : JSON.stringify(c);
  }

  read(): Node {
    const node = this.value();
    this.ws();
    if (this.pos < this.src.length) this.fail(`unexpected ${this.found()} after the end of the document`);
    return node;
  }

  private ws(): void {
    for (;;) {
      const c = this.src[this.pos];
      if (c === '\n') this.line++;
      else if (c !== ' ' && c !== '\t' && c !== '\r') return;
      this.pos++;
    }
  }

  private expect(c: string, what: string): void {
    this.ws();
    if (this.src[this.pos] !== c) this.fail(`expected ${what}, found ${this.found()}`);
    this.pos++;
  }

  private string(): string {
    const start = this.pos;
    this.pos++;
    for (;;) {
      const c = this.src[this.pos];
      if (c === undefined || c === '\n') this.fail('string is not closed on the line it starts');
      if (c === '"') break;
      this.pos += c === '\\' ? 2 : 1;
    }
    this.pos++;
    try {
      return JSON.parse(this.src.slice(start, this.pos)) as string;
    } catch {
      return this.fail('invalid string (bad escape or control character)');
    }
  }

  private value(): Node {
    this.ws();
    const c = this.src[this.pos];
    const line = this.line;
    if (c === '{') {
      this.pos++;
      const entries: Entry[] = [];
      this.ws();
      if (this.src[this.pos] === '}') {
        this.pos++;
        return { kind: 'object', entries, line };
      }
      for (;;) {
        this.ws();
        if (this.src[this.pos] !== '"') this.fail(`expected a "key" in double quotes, found ${this.found()}`);
        const keyLine = this.line;
        const key = this.string();
        this.expect(':', '":" after a key');
        entries.push({ key, line: keyLine, value: this.value() });
        this.ws();
        const sep = this.src[this.pos];
        if (sep !== ',' && sep !== '}') this.fail(`expected "," or "}" after a value, found ${this.found()}`);
        this.pos++;
        if (sep === '}') return { kind: 'object', entries, line };
      }
    }
    if (c === '[') {
      this.pos++;
      const items: Node[] = [];
      this.ws();
      if (this.src[this.pos] === ']') {
        this.pos++;
        return { kind: 'list', items, line };
      }
      for (;;) {
        items.push(this.value());
        this.ws();
        const sep = this.src[this.pos];
        if (sep !== ',' && sep !== ']') this.fail(`expected "," or "]" in a list, found ${this.found()}`);
        this.pos++;
        if (sep === ']') return { kind: 'list', items, line };
      }
    }
    if (c === '"') return { kind: 'scalar', value: this.string(), line };
    const m = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)(?![A-Za-z0-9_.])/.exec(this.src.slice(this.pos, this.pos + 400));
    if (m === null) return this.fail(`expected a value, found ${this.found()}`);
    this.pos += m[0].length;
    return { kind: 'scalar', value: JSON.parse(m[0]) as Scalar, line };
  }
}

// ---------------------------------------------------------------------------------------------
// Entry points

async function checkReadableFile(path: string, key: string, line: number | undefined, file: string): Promise<void> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new ConfigError(`${path} is not a regular file`, { file, key, line });
    await access(path, fsConstants.R_OK);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const problem =
      code === 'ENOENT' || code === 'ENOTDIR'
        ? `file not found: ${path}`
        : code === 'EACCES' || code === 'EPERM'
          ? `file is not readable (permission denied): ${path}`
          : `cannot read ${path} (${code ?? String(e)})`;
    throw new ConfigError(problem, { file, key, line });
  }
}

/**
 * Parse and validate config text. Asynchronous because it checks that the TLS certificate and
 * key files exist and are readable. `sourceName` is used in error messages.
 * Relative paths (sqlite `path`, TLS files) are resolved against the working directory, as Vault
 * does, and returned absolute.
 */
export async function parseConfig(text: string, format: 'hcl' | 'json', sourceName: string): Promise<ServerConfig> {
  const { tree, lines } = readDocument(text, format, sourceName);
  const { config, fileChecks } = validateConfig(tree, sourceName, lines);
  for (const check of fileChecks) await checkReadableFile(check.path, check.key, check.line, sourceName);
  return config;
}

/**
 * The plain tree of an HCL 1 or JSON document (a repeated block becomes a list) and the lines of
 * its keys. Also read by the ACL policy parser (src/core/acl/parse.ts). Errors are ConfigErrors.
 */
export function readDocument(text: string, format: 'hcl' | 'json', sourceName: string): { tree: unknown; lines: LineLookup } {
  const body = text.replace(/^\uFEFF/, '');
  const node = format === 'hcl' ? parseHcl(body, sourceName) : parseJson(body, sourceName);
  const lines = new SourceLines();
  return { tree: lines.toPlain(node, sourceName), lines };
}

/** `.hcl` and `.json` by extension; anything else is JSON if it starts with `{`, else HCL. */
function formatOf(path: string, text: string): 'hcl' | 'json' {
  const ext = extname(path).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.hcl') return 'hcl';
  return text.replace(/^\uFEFF/, '').trimStart().startsWith('{') ? 'json' : 'hcl';
}

/** Read, parse and validate a config file. Every failure is a ConfigError naming the file. */
export async function loadConfigFile(path: string): Promise<ServerConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const problem =
      code === 'ENOENT' || code === 'ENOTDIR'
        ? 'config file not found'
        : code === 'EISDIR'
          ? 'is a directory; give the path of one config file'
          : code === 'EACCES' || code === 'EPERM'
            ? 'config file is not readable (permission denied)'
            : `cannot read config file (${code ?? String(e)})`;
    throw new ConfigError(problem, { file: path });
  }
  return parseConfig(text, formatOf(path, text), path);
}
