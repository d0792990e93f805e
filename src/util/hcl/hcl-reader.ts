/**
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
 */
import { ConfigError } from './config-error.js';
import { describeToken, HclLexer, type Punct, type Token } from './lexer.js';
import type { Entry, Node, ObjectNode } from './tree.js';

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

export function parseHcl(text: string, file: string): ObjectNode {
  return new HclParser(new HclLexer(text, file).tokens(), file).parseFile();
}
