import { CofferApiError, CofferClientError } from '../sdk/index.js';

// The CLI's only writers: tables and JSON to stdout, errors to stderr. Tables are laid out as
// Vault's (columns glued by four spaces, a dashed rule under the header) so they read the same.

const GLUE = '    ';

/** Aligns rows into columns; with a header, a rule of dashes goes under it. */
export function formatTable(rows: readonly (readonly string[])[], header?: readonly string[]): string {
  const all = header === undefined ? [...rows] : [header, header.map((h) => '-'.repeat(h.length)), ...rows];
  const widths: number[] = [];
  for (const row of all) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return all
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join(GLUE).trimEnd())
    .join('\n');
}

/** A Go-`%v`-like rendering, which is what Vault's tables show: `[a b]`, `map[k:v]`, `<nil>`. */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return `[${value.map(formatValue).join(' ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `map[${entries.map(([k, v]) => `${k}:${formatValue(v)}`).join(' ')}]`;
  }
  return String(value);
}

/** Seconds as Go's time.Duration prints them, less the trailing zero units Vault trims: 768h, 1m30s. */
export function humanDuration(seconds: number): string {
  if (seconds <= 0) return '0s';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  let text = h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
  if (text.endsWith('m0s')) text = text.slice(0, -2);
  if (text.endsWith('h0m')) text = text.slice(0, -2);
  return text;
}

/** Go's time.RFC822 in UTC ("02 Jan 06 15:04 UTC"), as Vault's key-status shows install times. */
export function formatRfc822(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const month = d.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(d.getUTCDate())} ${month} ${two(d.getUTCFullYear() % 100)} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())} UTC`;
}

/** Empty strings read better as n/a in a table. */
export const orNA = (value: string | undefined): string => (value === undefined || value === '' ? 'n/a' : value);

export function printLines(text: string): void {
  console.log(text);
}

/** A message for the person, not the pipe (stderr). */
export function printNotice(text: string): void {
  console.error(text);
}

/** A Key/Value table (or a bare two-column table when `header` is false). */
export function printKeyValues(rows: readonly (readonly [string, unknown])[], header = true): void {
  const cells = rows.map(([k, v]) => [k, formatValue(v)] as const);
  console.log(formatTable(cells, header ? ['Key', 'Value'] : undefined));
}

/** Vault indents JSON by two spaces. */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

export function printWarnings(warnings: readonly string[] | null | undefined): void {
  if (!warnings || warnings.length === 0) return;
  console.error(`WARNING! The following warnings were returned from Coffer:\n\n${warnings.map((w) => `  * ${w}`).join('\n')}\n`);
}

/** `Error <doing what>: <message>` on stderr; API errors carry the server's `errors` lines. */
export function printError(doing: string, error: unknown): void {
  const message =
    error instanceof CofferApiError || error instanceof CofferClientError || error instanceof Error ? error.message : String(error);
  console.error(doing === '' ? message : `Error ${doing}: ${message}`);
}
