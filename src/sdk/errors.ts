/**
 * The server answered with a status the call does not accept. `errors` is the `{"errors":[...]}`
 * body (empty when the server sent none). The message is Vault's "Error making API request"
 * text: method, URL and errors — never the token (headers are not part of it, and any copy of the
 * token inside a server-provided string is redacted).
 */
export class CofferApiError extends Error {
  readonly status: number;
  readonly errors: readonly string[];
  readonly method: string;
  /** The request URL (the token never travels in the URL). */
  readonly url: string;
  /** The parsed response body, when it was JSON. */
  readonly body: unknown;

  constructor(init: { status: number; errors: readonly string[]; method: string; url: string; body: unknown }) {
    const lines = init.errors.length > 0 ? `\n\n${init.errors.map((e) => `* ${e}`).join('\n')}` : '';
    super(`Error making API request.\n\nURL: ${init.method} ${init.url}\nCode: ${init.status}. Errors:${lines}`);
    this.name = 'CofferApiError';
    this.status = init.status;
    this.errors = init.errors;
    this.method = init.method;
    this.url = init.url;
    this.body = init.body;
  }
}

/**
 * The request never got a usable answer: connection refused, TLS failure, timeout, or a response
 * whose shape is not what the endpoint documents.
 */
export class CofferClientError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CofferClientError';
  }
}

export const isCofferApiError = (e: unknown): e is CofferApiError => e instanceof CofferApiError;

/** Pulls the `errors` array out of an error body; anything else yields no errors. */
export function errorsFromBody(body: unknown): string[] {
  if (typeof body !== 'object' || body === null || !('errors' in body)) return [];
  const errors: unknown = body.errors;
  return Array.isArray(errors) ? errors.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))) : [];
}
