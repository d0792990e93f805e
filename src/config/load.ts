/**
 * Reading a config file: the file, its format (HCL or JSON, read by src/util/hcl into a plain tree
 * that remembers the line of every key), then validation (./validate.ts) and the checks that need
 * the file system.
 */
import { readFile, stat, access } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import { extname } from 'node:path';
import { ConfigError, readDocument } from '../util/hcl/index.js';
import type { ServerConfig } from './schema.js';
import { validateConfig } from './validate.js';

async function checkReadableFile(path: string, key: string, line: number | undefined, file: string): Promise<void> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new ConfigError(`${path} is not a regular file`, { file, key, line });
    await access(path, fsConstants.R_OK);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const problem =
      code === 'ENOENT' || code === 'ENOTDIR'
        ? `file not found: ${path}`
        : code === 'EACCES' || code === 'EPERM'
          ? `file is not readable (permission denied): ${path}`
          : `cannot read ${path} (${code ?? String(e)})`;
    throw new ConfigError(problem, { file, key, line });
  }
}

/**
 * Parse and validate config text. Asynchronous because it checks that the TLS certificate and
 * key files exist and are readable. `sourceName` is used in error messages.
 * Relative paths (sqlite `path`, TLS files) are resolved against the working directory, as Vault
 * does, and returned absolute.
 */
export async function parseConfig(text: string, format: 'hcl' | 'json', sourceName: string): Promise<ServerConfig> {
  const { tree, lines } = readDocument(text, format, sourceName);
  const { config, fileChecks } = validateConfig(tree, sourceName, lines);
  for (const check of fileChecks) await checkReadableFile(check.path, check.key, check.line, sourceName);
  return config;
}

/** `.hcl` and `.json` by extension; anything else is JSON if it starts with `{`, else HCL. */
function formatOf(path: string, text: string): 'hcl' | 'json' {
  const ext = extname(path).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.hcl') return 'hcl';
  return text.replace(/^\uFEFF/, '').trimStart().startsWith('{') ? 'json' : 'hcl';
}

/** Read, parse and validate a config file. Every failure is a ConfigError naming the file. */
export async function loadConfigFile(path: string): Promise<ServerConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const problem =
      code === 'ENOENT' || code === 'ENOTDIR'
        ? 'config file not found'
        : code === 'EISDIR'
          ? 'is a directory; give the path of one config file'
          : code === 'EACCES' || code === 'EPERM'
            ? 'config file is not readable (permission denied)'
            : `cannot read config file (${code ?? String(e)})`;
    throw new ConfigError(problem, { file: path });
  }
  return parseConfig(text, formatOf(path, text), path);
}
