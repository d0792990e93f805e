import { CofferError } from '../util/errors.js';

export const MAX_BODY_BYTES = 32 * 1024 * 1024;
export const MAX_JSON_DEPTH = 64;

/**
 * JSON.parse behind a depth check: a deeply nested body would otherwise cost stack and time
 * before we ever looked at it. The scan is one pass over the text.
 */
export function parseJsonBody(text: string): Record<string, unknown> {
  if (text.trim().length === 0) return {};
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_JSON_DEPTH) throw new CofferError('invalid_request', `request body nests deeper than ${MAX_JSON_DEPTH} levels`);
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CofferError('invalid_request', 'failed to parse JSON input: the request body is not valid JSON');
  }
  // Go decodes a `null` body into an empty map: no data, not an error.
  if (parsed === null) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CofferError('invalid_request', 'failed to parse JSON input: the request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}
