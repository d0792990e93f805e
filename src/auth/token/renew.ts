import * as z from 'zod';
import { duration } from '../../core/fields.js';
import { definePath, type PathSpec } from '../../core/framework.js';
import type { CoreResponse } from '../../core/request.js';
import type { TokenEntry } from '../../core/tokens/entry.js';
import { calculateTtl, type TtlResult } from '../../core/tokens/ttl.js';
import { invalid } from '../../util/errors.js';
import { callerOf, nullsAbsent, requiredAccessor, requiredToken, text, type Ctx, type TokenBackendDeps } from './common.js';
import { readRole } from './roles.js';
import { authBlock } from './shapes.js';

const renewFields = nullsAbsent(z.object({ token: text().optional(), accessor: text().optional(), increment: duration().optional() }));
const fieldHelp = {
  token: 'The token to renew.',
  accessor: 'Accessor of the token to renew.',
  increment: 'The TTL asked for, from now; never past the token\'s max TTL.',
};

const minNonZero = (a: number, b: number): number => (a === 0 ? b : b === 0 ? a : Math.min(a, b));

/** auth/token/renew, renew-self and renew-accessor. */
export function renewPaths(deps: TokenBackendDeps): PathSpec[] {
  const { tokens } = deps;

  /** Extends a token's TTL under its lock: period tokens to their period, others by the increment, never past the max. */
  const renew = async (ctx: Ctx, entry: TokenEntry | undefined, increment: number, clientToken: string): Promise<CoreResponse> => {
    if (!entry) throw invalid('token not found');
    if (entry.type === 'batch') throw invalid('batch tokens cannot be renewed');
    let period = entry.period;
    let explicitMaxTtl = entry.explicitMaxTtl;
    // A token store role's current period and cap apply to its tokens (as Vault's authRenew).
    if (entry.role !== '' && entry.path.startsWith(`${ctx.mount.path}create/`)) {
      const role = await readRole(ctx.storage, entry.role);
      if (!role) throw invalid(`original token role "${entry.role}" could not be found, not renewing`);
      if (role.tokenPeriod > 0) period = role.tokenPeriod;
      explicitMaxTtl = minNonZero(explicitMaxTtl, role.tokenExplicitMaxTtl);
    }
    let result: TtlResult | undefined;
    const updated = await tokens.update(entry.id, (current) => {
      if (current.expireAt === null || !current.renewable) throw invalid('lease is not renewable');
      const now = Date.now();
      result = calculateTtl({
        increment, ttl: current.creationTtl, period, mountMaxTtl: ctx.mount.maxLeaseTtl, mountDefaultTtl: ctx.mount.defaultLeaseTtl,
        backendMaxTtl: current.maxTtl, explicitMaxTtl, issueTime: current.issueTime > 0 ? current.issueTime : current.creationTime * 1000, now,
      });
      return { ...current, expireAt: result.expireAt, lastRenewal: now };
    });
    if (!updated || !result) throw invalid('token not found');
    return { auth: authBlock(clientToken, updated, result.ttl, updated.entityId === '' ? [] : deps.identityPolicies?.(updated.entityId)), ...(result.warnings.length > 0 ? { warnings: result.warnings } : {}) };
  };

  return [
    definePath({
      pattern: 'renew',
      help: 'Renews a token: extends its TTL, never past its max TTL.',
      fields: renewFields,
      fieldHelp,
      operations: {
        update: async (ctx) => {
          const token = requiredToken(ctx.data);
          return renew(ctx, await tokens.lookup(token), ctx.data.increment ?? 0, token);
        },
      },
    }),
    definePath({
      pattern: 'renew-self',
      help: 'Renews the caller\'s own token.',
      fields: renewFields,
      fieldHelp,
      operations: {
        update: async (ctx) => {
          const token = callerOf(ctx).token;
          return renew(ctx, await tokens.lookup(token, { tainted: true }), ctx.data.increment ?? 0, token);
        },
      },
    }),
    definePath({
      pattern: 'renew-accessor',
      help: 'Renews the token with this accessor; the answer never contains the token.',
      fields: renewFields,
      fieldHelp,
      operations: {
        update: async (ctx) => {
          const entry = await tokens.lookupByAccessor(requiredAccessor(ctx.data));
          if (!entry) throw invalid('invalid accessor');
          return renew(ctx, entry, ctx.data.increment ?? 0, '');
        },
      },
    }),
  ];
}
