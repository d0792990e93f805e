import { invalid } from '../util/errors.js';

/**
 * Turns the raw (still percent-encoded) request path into the one path that both the ACL and
 * the router see. Anything that could make them disagree is refused, never repaired:
 * encoded separators, '.' and '..' segments, empty segments, backslashes, control characters.
 * A single trailing '/' is kept (it means "folder", as for LIST).
 */
export function normalizePath(raw: string): string {
  if (/%(2f|5c|00)/i.test(raw)) throw invalid('path must not contain encoded separators');
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    throw invalid('path has invalid percent-encoding');
  }
  // A decoded '%' could start a second round of decoding somewhere else: refuse rather than guess.
  if (/%[0-9a-f]{2}/i.test(decoded) && decoded !== raw) throw invalid('path must not be percent-encoded twice');
  if (decoded.includes('\\')) throw invalid('path must not contain backslashes');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(decoded)) throw invalid('path must not contain control characters');
  const body = decoded.endsWith('/') ? decoded.slice(0, -1) : decoded;
  if (body.length === 0) throw invalid('missing request path');
  for (const seg of body.split('/')) {
    if (seg === '') throw invalid('path must not contain empty segments');
    if (seg === '.' || seg === '..') throw invalid('path must not contain relative segments');
  }
  return decoded;
}
