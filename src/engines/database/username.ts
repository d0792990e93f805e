import { createHash, randomInt, randomUUID } from 'node:crypto';
import { invalid } from '../../util/errors.js';

/**
 * A subset of Vault's username_template language (Go templates): `{{ pipeline }}` where a
 * pipeline is commands joined by `|`, each getting the previous value as its last argument.
 *
 *   values:    .DisplayName  .RoleName
 *   functions: random N · unix_time · unix_time_millis · uuid · truncate N · truncate_sha256 N
 *              uppercase · lowercase · replace "old" "new" · sha256 · base64
 *
 * Not supported: printf, parentheses, variables, conditionals.
 */

export interface TemplateInput {
  readonly DisplayName: string;
  readonly RoleName: string;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const MAX_TEMPLATE = 1024;

export function renderUsernameTemplate(template: string, input: TemplateInput, now = Date.now()): string {
  if (template.length > MAX_TEMPLATE) throw invalid('username_template is too long');
  let out = '';
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{{', i);
    if (open < 0) { out += template.slice(i); break; }
    out += template.slice(i, open);
    const close = template.indexOf('}}', open + 2);
    if (close < 0) throw invalid('username_template: unclosed {{');
    out += pipeline(template.slice(open + 2, close), input, now);
    i = close + 2;
  }
  return out;
}

/** Checks a template when it is configured, so a bad one fails at write time, not at creds time. */
export function checkUsernameTemplate(template: string): void {
  renderUsernameTemplate(template, { DisplayName: 'display', RoleName: 'role' });
}

function pipeline(source: string, input: TemplateInput, now: number): string {
  let value: string | undefined;
  for (const command of source.split('|')) {
    const args = tokenize(command.trim());
    const [head, ...rest] = args;
    if (head === undefined) throw invalid('username_template: empty command');
    if (value !== undefined) rest.push({ text: value, quoted: true });
    value = call(head, rest, input, now);
  }
  return value ?? '';
}

interface Token { text: string; quoted: boolean }

function tokenize(command: string): Token[] {
  const out: Token[] = [];
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|([^\s"]+))\s*/y;
  let at = 0;
  while (at < command.length) {
    re.lastIndex = at;
    const m = re.exec(command);
    if (!m || m[0] === '') throw invalid(`username_template: cannot parse "${command}"`);
    out.push(m[1] !== undefined ? { text: m[1].replace(/\\(.)/g, '$1'), quoted: true } : { text: m[2]!, quoted: false });
    at = re.lastIndex;
  }
  return out;
}

function call(head: Token, args: Token[], input: TemplateInput, now: number): string {
  const num = (k: number): number => {
    const n = Number(args[k]?.text);
    if (!Number.isInteger(n) || n < 0 || n > 1024) throw invalid(`username_template: ${head.text} needs a number`);
    return n;
  };
  const str = (k: number): string => {
    const t = args[k];
    if (t === undefined) throw invalid(`username_template: ${head.text} is missing an argument`);
    return t.text;
  };
  if (head.quoted) return head.text;
  switch (head.text) {
    case '.DisplayName': return input.DisplayName;
    case '.RoleName': return input.RoleName;
    case 'random': { const n = num(0); let s = ''; for (let i = 0; i < n; i++) s += ALNUM[randomInt(ALNUM.length)]; return s; }
    case 'unix_time': return String(Math.floor(now / 1000));
    case 'unix_time_millis': return String(now);
    case 'uuid': return randomUUID();
    case 'truncate': return [...str(1)].slice(0, num(0)).join('');
    case 'truncate_sha256': {
      const n = num(0);
      const s = str(1);
      if (s.length <= n) return s;
      if (n <= 8) throw invalid('username_template: truncate_sha256 needs a length above 8');
      return (s.slice(0, n - 8) + createHash('sha256').update(s.slice(n - 8)).digest('hex')).slice(0, n);
    }
    case 'uppercase': return str(0).toUpperCase();
    case 'lowercase': return str(0).toLowerCase();
    case 'replace': return str(2).split(str(0)).join(str(1));
    case 'sha256': return createHash('sha256').update(str(0)).digest('hex');
    case 'base64': return Buffer.from(str(0)).toString('base64');
    default: throw invalid(`username_template: unknown function or value "${head.text}"`);
  }
}
