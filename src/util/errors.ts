/**
 * The one error type that crosses layers. `code` is a closed union; the HTTP layer maps codes to
 * status in one table (src/http/status.ts) and never looks at message text.
 * Messages are shown to callers: they must help and must never contain a secret.
 */
export type ErrorCode =
  | 'invalid_request'
  | 'permission_denied'
  | 'not_found'
  | 'unsupported_operation'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'rate_limited'
  | 'cas_mismatch'
  | 'uninitialized'
  | 'already_initialized'
  | 'sealed'
  | 'standby'
  | 'tampered'
  | 'storage_failure'
  | 'audit_failure'
  | 'internal';

export class CofferError extends Error {
  readonly code: ErrorCode;
  /** Extra body fields a Vault client expects beside `errors` (e.g. KV v2 deleted-version data). */
  readonly body: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; body?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CofferError';
    this.code = code;
    this.body = options?.body;
  }
}

export const isCofferError = (e: unknown): e is CofferError => e instanceof CofferError;

export const invalid = (message: string): CofferError => new CofferError('invalid_request', message);
export const denied = (): CofferError => new CofferError('permission_denied', 'permission denied');
export const notFound = (message = ''): CofferError => new CofferError('not_found', message);
