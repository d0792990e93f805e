import { invalid } from '../../util/errors.js';

/**
 * Operator-written SQL templates with `{{name}}`, `{{username}}`, `{{password}}` and
 * `{{expiration}}`. The statements are trusted; the values put into them (generated user
 * names, static usernames, passwords) are not. Each value is escaped for the quoting context
 * its placeholder sits in — inside "...", '...', `...`, a $tag$ body, or bare (then quoted
 * whole) — so no value can end its quotes, and so none can add a statement (SECURITY.md T11).
 */

export type Dialect = 'postgres' | 'mysql';

/** Which placeholders are identifiers when they stand bare in a statement. */
const IDENTIFIERS = new Set(['name', 'username']);

type Context =
  | { kind: 'code' }
  | { kind: 'single'; backslash: boolean }
  | { kind: 'double' }
  | { kind: 'backtick' }
  | { kind: 'line-comment' }
  | { kind: 'block-comment'; depth: number };

interface Scan {
  /** Called for each run of plain text (a character, or an escape pair). */
  onText(i: number, length: number): void;
  onPlaceholder(name: string, ctx: Context, dollarTags: readonly string[]): void;
  onSplit(i: number): void;
}

/** One pass over a statement, tracking quotes, comments and (Postgres) $tag$ bodies. */
function scan(sql: string, dialect: Dialect, visit: Scan): void {
  const dollar: string[] = [];
  let ctx: Context = { kind: 'code' };
  let i = 0;
  while (i < sql.length) {
    if (sql.startsWith('{{', i)) {
      const end = sql.indexOf('}}', i + 2);
      const name = end < 0 ? '' : sql.slice(i + 2, end).trim();
      if (end >= 0 && /^[a-z_]+$/.test(name)) {
        visit.onPlaceholder(name, ctx, dollar);
        i = end + 2;
        continue;
      }
    }
    const c = sql[i]!;
    const next = sql[i + 1];
    let len = 1;
    switch (ctx.kind) {
      case 'code': {
        if (c === "'") {
          const prev = sql[i - 1];
          ctx = { kind: 'single', backslash: dialect === 'mysql' || ((prev === 'E' || prev === 'e') && !/[A-Za-z0-9_]/.test(sql[i - 2] ?? '')) };
        } else if (c === '"') ctx = { kind: 'double' };
        else if (c === '`' && dialect === 'mysql') ctx = { kind: 'backtick' };
        else if ((c === '-' && next === '-') || (c === '#' && dialect === 'mysql')) ctx = { kind: 'line-comment' };
        else if (c === '/' && next === '*') { ctx = { kind: 'block-comment', depth: 1 }; len = 2; }
        else if (c === '$' && dialect === 'postgres') {
          const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i))?.[0];
          if (tag) {
            if (dollar[dollar.length - 1] === tag) dollar.pop();
            else dollar.push(tag);
            len = tag.length;
          }
        } else if (c === ';' && dollar.length === 0) visit.onSplit(i);
        break;
      }
      case 'single':
        if (ctx.backslash && c === '\\') len = 2;
        else if (c === "'") {
          if (next === "'") len = 2;
          else ctx = { kind: 'code' };
        }
        break;
      case 'double':
        if (c === '"') { if (next === '"') len = 2; else ctx = { kind: 'code' }; }
        else if (c === '\\' && dialect === 'mysql') len = 2;
        break;
      case 'backtick':
        if (c === '`') { if (next === '`') len = 2; else ctx = { kind: 'code' }; }
        break;
      case 'line-comment':
        if (c === '\n') ctx = { kind: 'code' };
        break;
      case 'block-comment':
        if (c === '*' && next === '/') { len = 2; ctx = ctx.depth > 1 && dialect === 'postgres' ? { kind: 'block-comment', depth: ctx.depth - 1 } : { kind: 'code' }; }
        else if (c === '/' && next === '*' && dialect === 'postgres') { len = 2; ctx = { kind: 'block-comment', depth: ctx.depth + 1 }; }
        break;
    }
    visit.onText(i, len);
    i += len;
  }
}

/** Splits statement text on the `;` that end statements (not those in quotes, comments or $$ bodies). */
export function splitStatements(texts: readonly string[], dialect: Dialect): string[] {
  const out: string[] = [];
  for (const text of texts) {
    let start = 0;
    scan(text, dialect, { onText: () => undefined, onPlaceholder: () => undefined, onSplit: (i) => { out.push(text.slice(start, i)); start = i + 1; } });
    out.push(text.slice(start));
  }
  return out.map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Fills the placeholders of one statement, each value escaped for where it stands. */
export function render(statement: string, values: Readonly<Record<string, string>>, dialect: Dialect): string {
  let out = '';
  scan(statement, dialect, {
    onText: (i, len) => { out += statement.slice(i, i + len); },
    onSplit: () => undefined,
    onPlaceholder: (name, ctx, dollarTags) => {
      const value = values[name];
      if (value === undefined || ctx.kind === 'line-comment' || ctx.kind === 'block-comment') {
        out += `{{${name}}}`;
        return;
      }
      const text = escapeFor(value, name, ctx, dialect);
      // Inside a $tag$ body no escaping exists: a value holding the tag would end the body.
      for (const tag of dollarTags) if (text.includes(tag)) throw invalid(`the ${name} cannot be used inside a ${tag}-quoted body: it contains ${tag}`);
      out += text;
    },
  });
  return out;
}

function escapeFor(value: string, name: string, ctx: Context, dialect: Dialect): string {
  if (/[\0]/.test(value)) throw invalid(`the ${name} contains a NUL character`);
  if (dialect === 'mysql' && value.includes('\\')) {
    // How MySQL reads a backslash depends on sql_mode; refusing is the only reading-independent answer.
    throw invalid(`the ${name} contains a backslash, which MySQL statements cannot carry safely`);
  }
  switch (ctx.kind) {
    case 'single':
      return ctx.backslash ? value.replace(/\\/g, '\\\\').replace(/'/g, "''") : value.replace(/'/g, "''");
    case 'double':
      return value.replace(/"/g, '""');
    case 'backtick':
      return value.replace(/`/g, '``');
    default:
      // Bare: quote it whole. Identifiers as identifiers in Postgres; MySQL account names are strings.
      if (dialect === 'postgres' && IDENTIFIERS.has(name)) return `"${value.replace(/"/g, '""')}"`;
      if (dialect === 'postgres' && value.includes('\\')) return `E'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
      return `'${value.replace(/'/g, "''")}'`;
  }
}

/** Quotes a Postgres identifier (used by the built-in default statements). */
export const pgIdent = (v: string): string => `"${v.replace(/"/g, '""')}"`;
