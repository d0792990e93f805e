// `coffer policy fmt`: a small, pure HCL 1 formatter. The CLI does not import the server's parsers
// (src/core/acl, src/config): they read HCL into plain values and drop comments, and a formatter
// must keep them. This one keeps every token and comment and only re-lays them out as HCL's own
// printer does: two-space indents, `=` aligned across neighbouring one-line assignments, a blank
// line around blocks, short lists on one line, multi-line lists one element per line with
// trailing commas. It checks the syntax and the top level of a policy (`path "..." { ... }`,
// `name = ...`); the meaning of each rule is checked by the server on `coffer policy write`.

type Tok = { kind: 'word' | 'string' | 'heredoc' | 'comment' | 'punct' | 'nl'; text: string; line: number };

export class HclFormatError extends Error {}

function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  let line = 1;
  const fail = (msg: string): never => {
    throw new HclFormatError(`line ${line}: ${msg}`);
  };
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\n') {
      toks.push({ kind: 'nl', text: '\n', line });
      line += 1;
      i += 1;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      i += 1;
    } else if (c === '#' || src.startsWith('//', i)) {
      const end = src.indexOf('\n', i);
      const stop = end < 0 ? src.length : end;
      toks.push({ kind: 'comment', text: src.slice(i, stop).trimEnd(), line });
      i = stop;
    } else if (src.startsWith('/*', i)) {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) fail('unterminated /* comment');
      const text = src.slice(i, end + 2);
      toks.push({ kind: 'comment', text, line });
      line += text.split('\n').length - 1;
      i = end + 2;
    } else if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') {
        if (src[j] === '\n') fail('unterminated string');
        j += src[j] === '\\' ? 2 : 1;
      }
      if (j >= src.length) fail('unterminated string');
      toks.push({ kind: 'string', text: src.slice(i, j + 1), line });
      i = j + 1;
    } else if (src.startsWith('<<', i)) {
      const m = /^<<(-?)([A-Za-z_][\w-]*)\r?\n/.exec(src.slice(i));
      if (m === null) fail('bad heredoc: expected <<NAME and a new line');
      const marker = m![2]!;
      const bodyStart = i + m![0].length;
      const lines = src.slice(bodyStart).split('\n');
      const endIdx = lines.findIndex((l) => l.trim() === marker);
      if (endIdx < 0) fail(`heredoc ${marker} is not closed`);
      const text = src.slice(i, bodyStart) + lines.slice(0, endIdx + 1).join('\n');
      toks.push({ kind: 'heredoc', text: text.trimEnd(), line });
      line += endIdx + 1;
      i += text.length;
    } else if ('{}[]=,'.includes(c)) {
      toks.push({ kind: 'punct', text: c, line });
      i += 1;
    } else if (/[\w.\-+]/.test(c)) {
      const m = /^[\w.\-+:/]+/.exec(src.slice(i))!;
      toks.push({ kind: 'word', text: m[0], line });
      i += m[0].length;
    } else {
      fail(`unexpected character ${JSON.stringify(c)}`);
    }
  }
  return toks;
}

type Value = { kind: 'literal'; text: string } | { kind: 'list'; elems: Elem[]; multiline: boolean; tail: string[] } | { kind: 'object'; body: Body };
interface Elem { lead: string[]; value: Value; trailing?: string }
interface Item { lead: string[]; blank: boolean; keys: string[]; assign: boolean; value: Value; trailing?: string; line: number }
interface Body { items: Item[]; tail: string[]; tailBlank: boolean }

const trimBlankEnd = (lines: string[]): string[] => {
  const out = [...lines];
  while (out.at(-1) === '') out.pop();
  return out;
};

class Parser {
  #i = 0;
  constructor(readonly toks: Tok[]) {}

  #peek(): Tok | undefined {
    return this.toks[this.#i];
  }
  #fail(msg: string, tok = this.#peek()): never {
    throw new HclFormatError(tok === undefined ? `end of file: ${msg}` : `line ${tok.line}: ${msg}, found ${JSON.stringify(tok.text)}`);
  }
  /**
   * Skips new lines and collects the comments on their own lines ('' where a blank line separates
   * them from each other or from what follows); `blank`: a blank line came before all of it.
   */
  #gap(): { comments: string[]; blank: boolean } {
    const comments: string[] = [];
    let newlines = 0;
    let blank = false;
    for (let t = this.#peek(); t !== undefined && (t.kind === 'nl' || t.kind === 'comment'); t = this.#peek()) {
      if (t.kind === 'nl') {
        newlines += 1;
      } else {
        if (newlines >= 2 && comments.length === 0) blank = true;
        else if (newlines >= 2) comments.push('');
        comments.push(t.text);
        newlines = 0;
      }
      this.#i += 1;
    }
    if (newlines >= 2 && comments.length === 0) blank = true;
    else if (newlines >= 2) comments.push('');
    return { comments, blank };
  }
  /** A comment on the same line after an item, and the item's separator comma. */
  #trailing(): string | undefined {
    if (this.#peek()?.text === ',') this.#i += 1;
    const t = this.#peek();
    if (t?.kind === 'comment' && !t.text.startsWith('/*')) {
      this.#i += 1;
      return t.text;
    }
    return undefined;
  }

  body(closing: '}' | undefined): Body {
    const items: Item[] = [];
    for (;;) {
      const { comments, blank } = this.#gap();
      const t = this.#peek();
      if (t === undefined || (closing !== undefined && t.text === closing && t.kind === 'punct')) {
        if (t === undefined && closing !== undefined) this.#fail(`expected ${closing}`);
        return { items, tail: trimBlankEnd(comments), tailBlank: blank };
      }
      items.push(this.#item(comments, blank));
    }
  }

  #item(lead: string[], blank: boolean): Item {
    const keys: string[] = [];
    const line = this.#peek()?.line ?? 0;
    while (this.#peek()?.kind === 'word' || this.#peek()?.kind === 'string') keys.push(this.toks[this.#i++]!.text);
    if (keys.length === 0) this.#fail('expected a key');
    const t = this.#peek();
    if (t?.text === '=' && keys.length === 1) {
      this.#i += 1;
      while (this.#peek()?.kind === 'nl') this.#i += 1;
      const value = this.#value();
      const trailing = this.#trailing();
      return { lead, blank, keys, assign: true, value, line, ...(trailing === undefined ? {} : { trailing }) };
    }
    if (t?.text === '{') {
      this.#i += 1;
      const value: Value = { kind: 'object', body: this.body('}') };
      this.#i += 1;
      const trailing = this.#trailing();
      return { lead, blank, keys, assign: false, value, line, ...(trailing === undefined ? {} : { trailing }) };
    }
    return this.#fail(keys.length === 1 ? 'expected = or {' : 'expected {');
  }

  #value(): Value {
    const t = this.#peek();
    if (t === undefined) return this.#fail('expected a value');
    if (t.kind === 'string' || t.kind === 'word' || t.kind === 'heredoc') {
      this.#i += 1;
      return { kind: 'literal', text: t.text };
    }
    if (t.text === '{') {
      this.#i += 1;
      const body = this.body('}');
      this.#i += 1;
      return { kind: 'object', body };
    }
    if (t.text === '[') return this.#list();
    return this.#fail('expected a value');
  }

  #list(): Value {
    const open = this.toks[this.#i++]!;
    const elems: Elem[] = [];
    let multiline = false;
    for (;;) {
      const { comments } = this.#gap();
      const t = this.#peek();
      if (t === undefined) this.#fail('expected ]');
      if (t!.line !== open.line || comments.length > 0) multiline = true;
      if (t!.text === ']') {
        this.#i += 1;
        return { kind: 'list', elems, multiline, tail: trimBlankEnd(comments) };
      }
      if (t!.kind === 'punct' && t!.text !== '[' && t!.text !== '{') this.#fail('expected , or ]');
      const value = this.#value();
      const next = this.#peek();
      if (next?.text !== ',' && next?.text !== ']' && next?.kind !== 'nl' && next?.kind !== 'comment') this.#fail('expected , or ]', next);
      const trailing = this.#trailing();
      if (trailing !== undefined) multiline = true;
      elems.push({ lead: comments, value, ...(trailing === undefined ? {} : { trailing }) });
    }
  }
}

const pad = (depth: number): string => '  '.repeat(depth);
const isMultiline = (v: Value): boolean => v.kind === 'object' || (v.kind === 'list' && v.multiline) || (v.kind === 'literal' && v.text.includes('\n'));

function printValue(v: Value, depth: number): string {
  if (v.kind === 'literal') return v.text;
  if (v.kind === 'object') return v.body.items.length === 0 && v.body.tail.length === 0 ? '{}' : `{\n${printBody(v.body, depth + 1)}${pad(depth)}}`;
  if (!v.multiline) return `[${v.elems.map((e) => printValue(e.value, depth)).join(', ')}]`;
  const lines: string[] = [];
  for (const e of v.elems) {
    for (const c of e.lead) lines.push(c === '' ? '' : pad(depth + 1) + c);
    lines.push(`${pad(depth + 1)}${printValue(e.value, depth + 1)},${e.trailing === undefined ? '' : ` ${e.trailing}`}`);
  }
  for (const c of v.tail) lines.push(c === '' ? '' : pad(depth + 1) + c);
  return `[\n${lines.join('\n')}\n${pad(depth)}]`;
}

function printBody(body: Body, depth: number): string {
  const out: string[] = [];
  const items = body.items;
  for (let k = 0; k < items.length; k++) {
    const item = items[k]!;
    const prev = items[k - 1];
    const multi = !item.assign || isMultiline(item.value);
    if (prev !== undefined && (item.blank || multi || !prev.assign || isMultiline(prev.value))) out.push('');
    for (const c of item.lead) out.push(c === '' ? '' : pad(depth) + c);
    // Align `=` across the run of one-line assignments this item belongs to.
    let width = item.keys[0]!.length;
    if (item.assign && !multi) {
      let a = k;
      while (a > 0 && !items[a]!.blank && items[a]!.lead.length === 0 && items[a - 1]!.assign && !isMultiline(items[a - 1]!.value)) a -= 1;
      for (let b = a; b < items.length && items[b]!.assign && !isMultiline(items[b]!.value); b++) {
        if (b > a && (items[b]!.blank || items[b]!.lead.length > 0)) break;
        width = Math.max(width, items[b]!.keys[0]!.length);
      }
    }
    const head = item.assign ? `${item.keys[0]!.padEnd(width)} = ` : `${item.keys.join(' ')} `;
    out.push(`${pad(depth)}${head}${printValue(item.value, depth)}${item.trailing === undefined ? '' : ` ${item.trailing}`}`);
  }
  if (body.tail.length > 0) {
    if (items.length > 0 && body.tailBlank) out.push('');
    for (const c of body.tail) out.push(c === '' ? '' : pad(depth) + c);
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

/** Vault's top level: `path "<rule>" { ... }` blocks, and the optional `name = "..."`. */
function checkPolicyShape(body: Body): void {
  for (const item of body.items) {
    const key = item.keys[0]!.replace(/^"|"$/g, '');
    if (key === 'name' && item.assign) continue;
    if (key === 'path' && !item.assign && item.keys.length === 2 && item.keys[1]!.startsWith('"')) continue;
    throw new HclFormatError(`line ${item.line}: expected path "<path>" { ... }, found ${item.keys.join(' ')}`);
  }
}

/**
 * The policy text laid out canonically (idempotent: formatting twice changes nothing more).
 * JSON policies (text starting with `{`) are re-indented by two spaces. Throws HclFormatError.
 * @example formatPolicy('path "a" {\ncapabilities=["read"]\n}') === 'path "a" {\n  capabilities = ["read"]\n}\n'
 */
export function formatPolicy(text: string): string {
  const src = text.replace(/^\uFEFF/, '');
  if (src.trimStart().startsWith('{')) {
    try {
      return `${JSON.stringify(JSON.parse(src), null, 2)}\n`;
    } catch (e) {
      throw new HclFormatError(`invalid JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const body = new Parser(tokenize(src)).body(undefined);
  checkPolicyShape(body);
  return printBody(body, 0);
}
