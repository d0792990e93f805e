import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpDir } from '../helpers/tmp.js';

// Runs the `coffer` CLI as a child process, asynchronously (the server lives in the test process:
// a synchronous spawn would block it and deadlock). The compiled CLI (bin/coffer.js, as `npm
// test` builds it) starts several times faster; when any source is newer than its compiled copy
// (or than the CLI bundle) the sources are run through tsx instead, so a stale build is never what gets tested.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SRC = join(ROOT, 'src');
const BIN = join(ROOT, 'bin', 'coffer.js');
const MAIN_TS = join(SRC, 'cli', 'main.ts');

function buildIsFresh(): boolean {
  const bundle = join(ROOT, 'dist', 'cli', 'bundle.js');
  if (!existsSync(bundle)) return false;
  const bundledAt = statSync(bundle).mtimeMs;
  const walk = (dir: string): boolean => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!walk(path)) return false;
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        const compiled = join(ROOT, 'dist', relative(SRC, path)).replace(/\.ts$/, '.js');
        const sourceAt = statSync(path).mtimeMs;
        if (!existsSync(compiled) || statSync(compiled).mtimeMs < sourceAt || bundledAt < sourceAt) return false;
      }
    }
    return true;
  };
  return walk(SRC);
}

/** The argv prefix that starts the CLI: `node bin/coffer.js`, or `node --import tsx src/cli/main.ts`. */
export const CLI: readonly string[] = buildIsFresh() ? [BIN] : ['--import', 'tsx', MAIN_TS];

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliEnv {
  addr: string;
  /** COFFER_TOKEN; leave out to use ~/.coffer-token. */
  token?: string;
  /** HOME (where ~/.coffer-token lives); a fresh directory by default. */
  home?: string;
  extra?: Record<string, string>;
}

/** `coffer ...args` with COFFER_ADDR/COFFER_TOKEN and a private HOME; `stdin` is piped in. */
export function coffer(args: readonly string[], env: CliEnv, stdin?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI, ...args], {
      cwd: ROOT,
      env: {
        PATH: process.env['PATH'] ?? '',
        HOME: env.home ?? tmpDir('coffer-cli-home'),
        COFFER_ADDR: env.addr,
        ...(env.token === undefined ? {} : { COFFER_TOKEN: env.token }),
        ...env.extra,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

/** Fails with the command's output when the exit code is not the expected one. */
export function expectExit(r: CliResult, code: number, what: string): CliResult {
  if (r.code !== code) throw new Error(`${what}: exit ${String(r.code)}, expected ${code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r;
}
