import { Option } from 'commander';
import { parseKvVersions } from '../../sdk/index.js';
import type { KvLocation } from '../../sdk/index.js';
import { UsageError } from '../context.js';
import type { CliContext } from '../context.js';

// What the `kv` and `kv metadata` commands share: the --mount flag, locating a path, --versions.

export interface KvCommon {
  mount?: string;
  field?: string;
  wrapTtl?: string;
}

export const mountOption = (): Option =>
  new Option('--mount <path>', 'where the KV engine is mounted; the argument is then the secret path inside it');

export function locate(ctx: CliContext, path: string, opts: KvCommon): Promise<KvLocation> {
  return ctx.client().kv.locate(path, opts.mount);
}

export function versionsOf(list: readonly string[] | undefined): number[] {
  try {
    return parseKvVersions(list ?? []);
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
}
