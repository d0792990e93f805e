import * as z from 'zod';
import { definePath, type Caller, type HandlerContext, type Precheck, type PathSpec } from '../../core/framework.js';
import type { CoreResponse } from '../../core/request.js';
import { responseBody } from '../../core/response-body.js';
import { INVALID_WRAPPING_TOKEN, type ResponseWrapper, type StoredWrap } from '../../core/wrapping.js';
import { parseDurationSeconds } from '../../util/duration.js';
import { invalid } from '../../util/errors.js';

const tokenField = z.object({ token: z.string().optional() });
const TOKEN_HELP = { token: 'The wrapping token; the request token when absent.' };
type TokenCtx = HandlerContext<z.output<typeof tokenField>>;

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
  /** unwrap and rewrap: the token is checked first, its response taken once, then answered with. */
  const spendingPath = (pattern: string, help: string, answer: (stored: StoredWrap, ctx: TokenCtx) => Promise<CoreResponse>): PathSpec => definePath({
    pattern,
    help,
    precheck,
    fields: tokenField,
    fieldHelp: TOKEN_HELP,
    operations: {
      update: async (ctx) => answer(await take(ctx.data.token || undefined, ctx.caller), ctx),
    },
  });
  const lookup = async (ctx: TokenCtx): Promise<CoreResponse> => ({ data: await wrapper.lookup(ctx.data.token || ctx.caller?.token) });
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
          const response = responseBody(ctx.request.id, { data, mountType: ctx.mount.type });
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
      fieldHelp: TOKEN_HELP,
      operations: { read: lookup, update: lookup },
    }),
    spendingPath(
      'wrapping/unwrap',
      'Unwraps a wrapping token (body `token`, or the request token itself) and returns the original response, once.',
      async (stored) => ({ raw: { status: 200, body: stored.response } }),
    ),
    spendingPath(
      'wrapping/rewrap',
      'Exchanges a wrapping token for a new one holding the same response, with the same TTL and creation path.',
      async (stored, ctx) => ({ wrapInfo: await wrapper.rewrap(stored, { displayName: ctx.caller?.displayName ?? '', namespace: ctx.request.namespace }) }),
    ),
  ];
}
