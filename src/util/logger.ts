import { pino, type Logger } from 'pino';

export type { Logger };
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

/** Vault's level names (go-hclog's spellings included) to ours. */
const LEVEL_NAMES: ReadonlyMap<string, LogLevel> = new Map([
  ['trace', 'trace'], ['debug', 'debug'], ['info', 'info'], ['notice', 'info'],
  ['warn', 'warn'], ['warning', 'warn'], ['err', 'error'], ['error', 'error'],
]);

/** The level a Vault level name means (any case, surrounding spaces ignored); undefined if none. */
export function levelNamed(name: string): LogLevel | undefined {
  return LEVEL_NAMES.get(name.trim().toLowerCase());
}

/**
 * Structured logs. Known secret-bearing fields are redacted as a second line of defence:
 * the first is never passing a secret to the logger at all.
 */
export function createLogger(level: LogLevel | 'silent' = 'info', destination?: NodeJS.WritableStream): Logger {
  return pino({
    level,
    base: { service: 'coffer' },
    redact: {
      paths: ['token', 'key', 'keys', 'root_token', 'password', 'secret', 'headers["x-vault-token"]', 'headers.authorization', '*.token', '*.password'],
      censor: '[redacted]',
    },
  }, destination ?? process.stderr);
}
