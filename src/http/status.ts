import type { ErrorCode } from '../util/errors.js';

/** The one place an error code becomes an HTTP status. */
export const STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = {
  invalid_request: 400,
  cas_mismatch: 400,
  permission_denied: 403,
  not_found: 404,
  unsupported_operation: 405,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  already_initialized: 400,
  internal: 500,
  storage_failure: 500,
  tampered: 500,
  audit_failure: 500,
  uninitialized: 503,
  sealed: 503,
  standby: 503,
};
