import type { CoreResponse } from '../core/request.js';
import { responseBody } from '../core/response-body.js';

/** Responses whose `data` keys Vault also copies to the top level (old clients read them there). */
const TOP_LEVEL_COPY = [/^sys\/mounts(\/|$)/, /^sys\/auth(\/|$)/, /^sys\/audit(\/|$)/, /^sys\/policy(\/|$)/, /^sys\/policies\//, /^sys\/capabilities/,
  /^sys\/key-status$/, /^sys\/rotate$/, /^sys\/remount$/, /^sys\/wrapping\/wrap$/];

export function envelope(requestId: string, path: string, res: CoreResponse): Record<string, unknown> {
  if (res.wrapInfo) {
    return {
      request_id: requestId, lease_id: '', renewable: false, lease_duration: 0, data: null,
      wrap_info: res.wrapInfo, warnings: res.warnings ?? null, auth: null, mount_type: res.mountType ?? '',
    };
  }
  const body: Record<string, unknown> = { ...responseBody(requestId, res) };
  if (res.data && TOP_LEVEL_COPY.some((re) => re.test(path))) {
    for (const [k, v] of Object.entries(res.data)) if (!(k in body)) body[k] = v;
  }
  return body;
}
