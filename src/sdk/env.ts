import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const DEFAULT_ADDRESS = 'http://127.0.0.1:8200';
export const TOKEN_FILE_NAME = '.coffer-token';

/** What the environment says about where and how to connect; every field may be absent. */
export interface EnvSettings {
  address: string;
  token?: string;
  namespace?: string;
  caCert?: string;
  tlsSkipVerify?: boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

/** The first of the named variables that is set and non-empty. */
function pick(env: Env, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
}

/** Go's strconv.ParseBool, which is what VAULT_SKIP_VERIFY is parsed with. */
export function parseGoBool(value: string, name: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw new TypeError(`${name} must be a boolean (true/false/1/0), got ${JSON.stringify(value)}`);
}

/** `~/.coffer-token`, trimmed; undefined when missing or empty. HOME in `env` wins over the OS. */
export function readTokenFile(env: Env): string | undefined {
  const home = pick(env, 'HOME', 'USERPROFILE') ?? homedir();
  let text: string;
  try {
    text = readFileSync(join(home, TOKEN_FILE_NAME), 'utf8');
  } catch (e) {
    if (typeof e === 'object' && e !== null && 'code' in e && e.code === 'ENOENT') return undefined;
    throw e;
  }
  const token = text.trim();
  return token === '' ? undefined : token;
}

/**
 * COFFER_* first, then VAULT_* (so Vault's tooling and habits carry over), then the token file.
 * COFFER_ADDR/VAULT_ADDR, COFFER_TOKEN/VAULT_TOKEN, COFFER_NAMESPACE/VAULT_NAMESPACE,
 * COFFER_CACERT/VAULT_CACERT (a PEM file), COFFER_SKIP_VERIFY/VAULT_SKIP_VERIFY.
 */
export function settingsFromEnv(env: Env): EnvSettings {
  const settings: EnvSettings = { address: pick(env, 'COFFER_ADDR', 'VAULT_ADDR') ?? DEFAULT_ADDRESS };
  const token = pick(env, 'COFFER_TOKEN', 'VAULT_TOKEN') ?? readTokenFile(env);
  if (token !== undefined) settings.token = token;
  const namespace = pick(env, 'COFFER_NAMESPACE', 'VAULT_NAMESPACE');
  if (namespace !== undefined) settings.namespace = namespace;
  const caCert = pick(env, 'COFFER_CACERT', 'VAULT_CACERT');
  if (caCert !== undefined) settings.caCert = caCert;
  const skipName = env['COFFER_SKIP_VERIFY'] ? 'COFFER_SKIP_VERIFY' : 'VAULT_SKIP_VERIFY';
  const skip = pick(env, skipName);
  if (skip !== undefined) settings.tlsSkipVerify = parseGoBool(skip, skipName);
  return settings;
}
