import { definePath, type PathSpec } from '../../core/framework.js';
import { CofferError, invalid } from '../../util/errors.js';
import { accessorField, callerOf, requiredAccessor, tokenField, type Ctx, type TokenBackendDeps } from './common.js';
import { lookupData } from './shapes.js';

/** auth/token/lookup, lookup-self and lookup-accessor. */
export function lookupPaths(deps: TokenBackendDeps): PathSpec[] {
  const lookup = async (ctx: Ctx, token: string): Promise<{ data: Record<string, unknown> }> => {
    // Tainted: a token whose last use is in flight can still be looked at, as in Vault.
    const entry = await deps.tokens.lookup(token, { tainted: true });
    if (!entry) throw new CofferError('permission_denied', 'bad token');
    return { data: withIdentityPolicies(deps, lookupData(entry, token), entry.entityId) };
  };
  const given = (ctx: Ctx & { data: { token?: string | undefined } }): string => ctx.data.token || callerOf(ctx).token;
  return [
    definePath({
      pattern: 'lookup',
      help: 'Looks up a token given in the body (POST) or, without one, the caller\'s own token.',
      fields: tokenField,
      fieldHelp: { token: 'The token to look up; the caller\'s own when absent.' },
      operations: {
        read: (ctx) => lookup(ctx, given(ctx)),
        update: (ctx) => lookup(ctx, given(ctx)),
      },
    }),
    definePath({
      pattern: 'lookup-self',
      help: 'Looks up the caller\'s own token.',
      fields: tokenField,
      operations: {
        read: (ctx) => lookup(ctx, callerOf(ctx).token),
        update: (ctx) => lookup(ctx, callerOf(ctx).token),
      },
    }),
    definePath({
      pattern: 'lookup-accessor',
      help: 'Looks up a token by its accessor; the answer never contains the token.',
      fields: accessorField,
      fieldHelp: { accessor: 'Accessor of the token to look up.' },
      operations: {
        update: async (ctx) => {
          const entry = await deps.tokens.lookupByAccessor(requiredAccessor(ctx.data), { tainted: true });
          if (!entry) throw invalid('invalid accessor');
          return { data: withIdentityPolicies(deps, lookupData(entry, ''), entry.entityId) };
        },
      },
    }),
  ];
}

/** Vault adds `identity_policies` to a lookup when the token's entity or groups bring any. */
function withIdentityPolicies(deps: TokenBackendDeps, data: Record<string, unknown>, entityId: string): Record<string, unknown> {
  const policies = entityId === '' ? [] : deps.identityPolicies?.(entityId) ?? [];
  return policies.length > 0 ? { ...data, identity_policies: [...policies] } : data;
}
