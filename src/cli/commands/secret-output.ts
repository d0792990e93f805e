import { Option } from 'commander';
import type { Secret } from '../../sdk/index.js';
import { EXIT } from '../context.js';
import type { CliContext } from '../context.js';
import { formatTable, formatValue, humanDuration, printJson, printNotice, printWarnings } from '../output.js';
import { secretRows } from '../views.js';
import type { Row } from '../views.js';

// Output shared by the secret-handling commands (kv, token, login, unwrap, read/write), laid out
// as the Vault CLI lays it out: Key/Value tables with durations made readable and empty cells
// shown as n/a, `=== Title ===` headers, and `--field` printing one raw value.

/** Keys whose numbers Vault's tables show as durations (`ttl`, `*_ttl`, `period`, ...). */
export function looksLikeDuration(key: string): boolean {
  return (
    key === 'period' || key.endsWith('_period') || key === 'ttl' || key.endsWith('_ttl') ||
    key === 'duration' || key.endsWith('_duration') || key === 'lease_max' || key === 'ttl_max'
  );
}

function cell(key: string, value: unknown): unknown {
  if (typeof value === 'number' && Number.isInteger(value) && looksLikeDuration(key)) return humanDuration(value);
  return value === '' ? 'n/a' : value;
}

function printRows(rows: readonly Row[]): void {
  if (rows.length === 0) return;
  process.stdout.write(`${formatTable(rows.map(([k, v]) => [k, formatValue(cell(k, v))]), ['Key', 'Value'])}\n`);
}

/** A response as Vault's table formatter shows it (lease, auth, wrap info, then data keys). */
export function printSecretTable(secret: Secret): void {
  printWarnings(secret.warnings);
  printRows(secretRows(secret));
}

/** `--format json`: the whole response; table: warnings on stderr, then the table. */
export function printSecret(ctx: CliContext, secret: Secret): void {
  if (ctx.format === 'json') printJson(secret);
  else printSecretTable(secret);
}

/** A plain object as a sorted Key/Value table (Vault's OutputData of a map). */
export function printMap(data: Readonly<Record<string, unknown>>): void {
  printRows(Object.keys(data).sort().map((k) => [k, data[k]] as const));
}

/** `=== Title ===`, as wide as `width` (Vault's padEqualSigns). */
export function padEqualSigns(title: string, width: number): string {
  let signs = width - (title.length + 2);
  if (signs <= 0) signs = 4;
  if (signs % 2 !== 0) signs += 1;
  const side = '='.repeat(signs / 2);
  return `${side} ${title} ${side}`;
}

/** The header over a map's table: as wide as its longest key plus the Value column. */
export function headerForMap(title: string, data: Readonly<Record<string, unknown>>): string {
  const longest = Math.max(0, ...Object.keys(data).map((k) => k.length));
  return padEqualSigns(title, longest + 4 + 5);
}

/** `== Secret Path ==` / the path / an empty line. */
export function printPathHeader(title: string, path: string): void {
  process.stdout.write(`${padEqualSigns(title, path.length)}\n${path}\n\n`);
}

export function printLine(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** What `--field NAME` picks from a response, as Vault's RawField: auth and wrap fields first, then data. */
export function rawField(secret: Secret, field: string): unknown {
  const data = secret.data ?? {};
  if (secret.auth !== null) {
    const a = secret.auth;
    const byName: Record<string, unknown> = {
      token: a.client_token, token_accessor: a.accessor, token_duration: a.lease_duration, token_renewable: a.renewable,
      token_policies: a.token_policies, identity_policies: a.identity_policies, policies: a.policies,
    };
    return field in byName ? byName[field] : data[field];
  }
  if (secret.wrap_info !== null) {
    const w = secret.wrap_info;
    const byName: Record<string, unknown> = {
      wrapping_token: w.token, wrapping_accessor: w.accessor, wrapping_token_ttl: w.ttl, wrapping_token_creation_time: w.creation_time,
      wrapping_token_creation_path: w.creation_path, wrapped_accessor: w.wrapped_accessor,
    };
    return field in byName ? byName[field] : data[field];
  }
  switch (field) {
    case 'lease_duration':
    case 'refresh_interval':
      return secret.lease_duration;
    case 'lease_id':
      return secret.lease_id;
    case 'request_id':
      return secret.request_id;
    case 'renewable':
      return secret.renewable;
    case 'data':
      return 'data' in data ? data['data'] : data;
    default:
      return data[field];
  }
}

/**
 * Prints one value for scripts: `%v`-style in table format, JSON with `--format json`. As Vault,
 * no newline is added when stdout is not a terminal, so `$(coffer ... --field password)` is exact.
 * A missing field is exit 1.
 */
export function printField(ctx: CliContext, value: unknown, field: string): number {
  if (value === undefined || value === null) {
    printNotice(`Field "${field}" not present in secret`);
    return EXIT.local;
  }
  const text = ctx.format === 'json' ? JSON.stringify(value, null, 2) : formatValue(value);
  process.stdout.write(process.stdout.isTTY ? `${text}\n` : text);
  return EXIT.ok;
}

/** `--field NAME`: print only this value. */
export const fieldOption = (): Option => new Option('--field <name>', 'print only this field, raw (no trailing newline when piped)');

/** `--wrap-ttl DURATION`: ask the server to wrap the response (sent as X-Vault-Wrap-TTL). */
export const wrapTtlOption = (): Option =>
  new Option('--wrap-ttl <duration>', 'wrap the response in a single-use wrapping token with this TTL (e.g. 5m)');

/** `{ wrapTtl }` for the SDK when the flag was given. */
export function wrapOf(opts: { wrapTtl?: string }): { wrapTtl?: string } {
  return opts.wrapTtl === undefined || opts.wrapTtl === '' ? {} : { wrapTtl: opts.wrapTtl };
}

/** A wrapped answer is shown as Vault shows it: the whole response (the wrap info table). */
export function isWrapped(secret: Secret): boolean {
  return secret.wrap_info !== null && secret.wrap_info.ttl !== 0;
}
