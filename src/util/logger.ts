import { pino, type Logger } from 'pino';

export type { Logger };
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

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
