import { z } from 'zod';
import { definePath, type Caller, type Precheck, type PathSpec } from '../../core/framework.js';
import { INVALID_WRAPPING_TOKEN, toWrappedResponse, type ResponseWrapper, type StoredWrap } from '../../core/wrapping.js';
import { parseDurationSeconds } from '../../util/duration.js';
import { invalid } from '../../util/errors.js';

const tokenField = z.object({ token: z.string().optional() });

/** The wrapping token a request names: the body's `token`, else the caller's own token. */
function bodyToken(data: Readonly<Record<string, unknown>>): string | undefined {
  const t = data['token'];
  if (t === undefined || t === null) return undefined;
  if (typeof t !== 'string' || t === '') throw invalid(INVALID_WRAPPING_TOKEN);
  return t;
}

/**
 * sys/wrapping/wrap|lookup|unwrap|rewrap. Unwrap and rewrap check the wrapping token before
 * anything else (Vault does the same), so a used or unknown one is a 400.
 */
export function wrappingPaths(wrapper: ResponseWrapper): PathSpec[] {
  const precheck: Precheck = async ({ token, data }) => {
    await wrapper.validate(bodyToken(data) ?? token);
  };
  /** One winner only: a body token is claimed here; the caller's own was spent by the pipeline. */
  const take = async (given: string | undefined, caller: Caller | null): Promise<StoredWrap> => {
    if (given !== undefined && !(caller && wrapper.idOf(given) === caller.tokenId)) return wrapper.claim(given);
    if (!caller) throw invalid(INVALID_WRAPPING_TOKEN);
    return wrapper.takeSpent(caller);
  };
  return [
    definePath({
      pattern: 'wrapping/wrap',
      help: 'Wraps the request body in a single-use token (TTL from X-Vault-Wrap-TTL or a wrap_ttl field).',
      fieldHelp: { wrap_ttl: 'Used only when the X-Vault-Wrap-TTL header is absent; not part of the wrapped data then.' },
      operations: {
        update: async (ctx) => {
          const data: Record<string, unknown> = { ...ctx.rawData };
          let ttl = ctx.request.wrapTtl;
          if (ttl === undefined && data['wrap_ttl'] !== undefined) {
            ttl = parseDurationSeconds(data['wrap_ttl']);
            if (ttl === undefined) throw invalid('wrap_ttl must be a duration such as "5m" or a number of seconds');
            delete data['wrap_ttl'];
          }
          if (!ttl) throw invalid('must specify a wrapping TTL');
          const response = toWrappedResponse(ctx.request.id, { data, mountType: ctx.mount.type });
          const wrapInfo = await wrapper.wrap(response, {
            ttl, creationPath: ctx.request.fullPath, displayName: ctx.caller?.displayName ?? '', namespace: ctx.request.namespace,
          });
          return { wrapInfo };
        },
      },
    }),
    definePath({
      pattern: 'wrapping/lookup',
      help: 'Looks up a wrapping token (body `token` or X-Vault-Token) without using it: creation path, time and TTL.',
      unauthenticated: true,
      fields: tokenField,
      fieldHelp: { token: 'The wrapping token; the request token when absent.' },
      operations: {
        read: async (ctx) => ({ data: await wrapper.lookup(ctx.data.token || ctx.caller?.token) }),
        update: async (ctx) => ({ data: await wrapper.lookup(ctx.data.token || ctx.caller?.token) }),
      },
    }),
    definePath({
      pattern: 'wrapping/unwrap',
      help: 'Unwraps a wrapping token (body `token`, or the request token itself) and returns the original response, once.',
      precheck,
      fields: tokenField,
      fieldHelp: { token: 'The wrapping token; the request token when absent.' },
      operations: {
        update: async (ctx) => {
          const stored = await take(ctx.data.token || undefined, ctx.caller);
          return { raw: { status: 200, body: stored.response } };
        },
      },
    }),
    definePath({
      pattern: 'wrapping/rewrap',
      help: 'Exchanges a wrapping token for a new one holding the same response, with the same TTL and creation path.',
      precheck,
      fields: tokenField,
      fieldHelp: { token: 'The wrapping token; the request token when absent.' },
      operations: {
        update: async (ctx) => {
          const stored = await take(ctx.data.token || undefined, ctx.caller);
          const wrapInfo = await wrapper.rewrap(stored, { displayName: ctx.caller?.displayName ?? '', namespace: ctx.request.namespace });
          return { wrapInfo };
        },
      },
    }),
  ];
}
