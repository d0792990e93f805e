import type { AuthResult, CoreResponse } from './request.js';

/**
 * Vault's HTTP body for a response that is not wrapped. A wrapping token stores exactly this,
 * and unwrap returns it as is, so the HTTP layer and response wrapping share the one shape.
 */
export interface ResponseBody {
  request_id: string;
  lease_id: string;
  renewable: boolean;
  lease_duration: number;
  data: Record<string, unknown> | null;
  wrap_info: null;
  warnings: string[] | null;
  auth: AuthResult | null;
  mount_type: string;
}

/** The envelope fields of a response: lease from its secret, nulls for what it lacks. */
export function responseBody(requestId: string, res: CoreResponse): ResponseBody {
  return {
    request_id: requestId,
    lease_id: res.secret?.leaseId ?? '',
    renewable: res.secret?.renewable ?? false,
    lease_duration: res.secret?.ttl ?? 0,
    data: res.data ?? null,
    wrap_info: null,
    warnings: res.warnings && res.warnings.length > 0 ? res.warnings : null,
    auth: res.auth ?? null,
    mount_type: res.mountType ?? '',
  };
}
