import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import { UsageError } from './context.js';

/** A key argument trimmed, or undefined when blank (then the command prompts, as Vault's does). */
export function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

/** A commander parser for counts such as --key-shares. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('Must be a positive integer.');
  return n;
}

/** Every long flag name the program knows (`format`, `key-shares`, ...), across all commands. */
export function knownLongFlags(program: Command): Set<string> {
  const names = new Set<string>();
  const walk = (cmd: Command): void => {
    for (const opt of cmd.options) if (opt.long !== undefined) names.add(opt.long.replace(/^--/, ''));
    for (const sub of cmd.commands) walk(sub);
  };
  walk(program);
  return names;
}

/**
 * Vault's CLI takes single-dash long flags (`-format=json`, `-init`); commander reads those as
 * clusters of short flags. Rewrites `-name[=v]` to `--name[=v]` when `name` is a known long flag,
 * and leaves everything else (values, `-`, anything after `--`) alone.
 */
export function normalizeVaultFlags(argv: readonly string[], known: ReadonlySet<string>): string[] {
  const out: string[] = [];
  let passthrough = false;
  for (const arg of argv) {
    if (arg === '--') passthrough = true;
    const m = /^-([a-z][a-z0-9-]+)(=.*)?$/i.exec(arg);
    out.push(!passthrough && m?.[1] !== undefined && known.has(m[1]) ? `-${arg}` : arg);
  }
  return out;
}

/** How `coffer write` gets at files and stdin (injected so the parser stays testable). */
export interface KvSources {
  readStdin(): Promise<string>;
  readFile(path: string): string;
}

export const defaultKvSources: KvSources = {
  readStdin: async () => (await import('./prompt.js')).readAllStdin(),
  readFile: (path) => readFileSync(path, 'utf8'),
};

function jsonObject(text: string, from: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`Failed to parse JSON from ${from}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`JSON from ${from} must be an object`);
  return value as Record<string, unknown>;
}

/**
 * Vault's `write` data arguments: `k=v`; `k=@file` (the file's text); `k=-` (stdin); `\@` to
 * escape a literal `@`; `-` alone (a JSON object on stdin); `@file.json` alone (a JSON object
 * from the file). A key given twice becomes a list. Stdin can be used once.
 */
export async function parseKvArgs(args: readonly string[], sources: KvSources = defaultKvSources): Promise<Record<string, unknown>> {
  const result: Record<string, unknown> = {};
  let stdinUsed = false;
  const stdin = async (): Promise<string> => {
    if (stdinUsed) throw new UsageError('stdin (-) can only be used once');
    stdinUsed = true;
    return sources.readStdin();
  };
  const add = (key: string, value: unknown): void => {
    const existing = result[key];
    if (existing === undefined) result[key] = value;
    else result[key] = Array.isArray(existing) ? [...(existing as unknown[]), value] : [existing, value];
  };
  const readFile = (path: string): string => {
    try {
      return sources.readFile(path);
    } catch (e) {
      throw new UsageError(`Error reading file ${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };

  for (const arg of args) {
    if (arg === '-') {
      for (const [k, v] of Object.entries(jsonObject(await stdin(), 'stdin'))) add(k, v);
      continue;
    }
    if (arg.startsWith('@')) {
      for (const [k, v] of Object.entries(jsonObject(readFile(arg.slice(1)), arg.slice(1)))) add(k, v);
      continue;
    }
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new UsageError(`Invalid key/value pair ${JSON.stringify(arg)}: format must be key=value`);
    const key = arg.slice(0, eq);
    const raw = arg.slice(eq + 1);
    if (raw === '-') add(key, await stdin());
    else if (raw.startsWith('@')) add(key, readFile(raw.slice(1)));
    else if (raw.startsWith('\\@')) add(key, raw.slice(1));
    else add(key, raw);
  }
  return result;
}
