/**
 * JSON is read by a small strict reader that records lines (and reports syntax errors with one);
 * `JSON.parse` then checks the same text, as a referee.
 */
import { ConfigError } from './config-error.js';
import type { Entry, Node, Scalar } from './tree.js';

export function parseJson(text: string, file: string): Node {
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

  /** The items of an object or list, after its opening bracket, up to `close`. */
  private items<T>(close: '}' | ']', where: string, item: () => T): T[] {
    this.pos++;
    const items: T[] = [];
    this.ws();
    if (this.src[this.pos] === close) {
      this.pos++;
      return items;
    }
    for (;;) {
      items.push(item());
      this.ws();
      const sep = this.src[this.pos];
      if (sep !== ',' && sep !== close) this.fail(`expected "," or "${close}" ${where}, found ${this.found()}`);
      this.pos++;
      if (sep === close) return items;
    }
  }

  private entry(): Entry {
    this.ws();
    if (this.src[this.pos] !== '"') this.fail(`expected a "key" in double quotes, found ${this.found()}`);
    const keyLine = this.line;
    const key = this.string();
    this.expect(':', '":" after a key');
    return { key, line: keyLine, value: this.value() };
  }

  private value(): Node {
    this.ws();
    const c = this.src[this.pos];
    const line = this.line;
    if (c === '{') return { kind: 'object', entries: this.items('}', 'after a value', () => this.entry()), line };
    if (c === '[') return { kind: 'list', items: this.items(']', 'in a list', () => this.value()), line };
    if (c === '"') return { kind: 'scalar', value: this.string(), line };
    const m = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)(?![A-Za-z0-9_.])/.exec(this.src.slice(this.pos, this.pos + 400));
    if (m === null) return this.fail(`expected a value, found ${this.found()}`);
    this.pos += m[0].length;
    return { kind: 'scalar', value: JSON.parse(m[0]) as Scalar, line };
  }
}
