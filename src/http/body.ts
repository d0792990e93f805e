import { parseJsonBody } from './json.js';

/**
 * A write's body as request data. Vault reads JSON whatever the Content-Type says, except a
 * form (`application/x-www-form-urlencoded`, what `curl -d k=v` sends) whose text does not
 * start like JSON: then the form fields are the data, repeated keys joined with ",".
 */
export function parseRequestBody(text: string, contentType: string | undefined): Record<string, unknown> {
  const mediaType = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType === 'application/x-www-form-urlencoded' && !looksLikeJson(text)) {
    const out: Record<string, unknown> = {};
    const form = new URLSearchParams(text);
    for (const key of new Set(form.keys())) out[key] = form.getAll(key).join(',');
    return out;
  }
  return parseJsonBody(text);
}

/** Data from the query string (GET, DELETE, LIST): one value as a string, repeated keys as a list, as Vault's parseQuery. */
export function queryData(query: URLSearchParams, skip: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of new Set(query.keys())) {
    if (skip.includes(key)) continue;
    const values = query.getAll(key);
    out[key] = values.length === 1 ? values[0] : values;
  }
  return out;
}

/** Vault's isForm test: the first significant character of a JSON body is `{` or `[`. */
function looksLikeJson(text: string): boolean {
  const first = text.trimStart()[0];
  return first === '{' || first === '[';
}
