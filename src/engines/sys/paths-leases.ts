import * as z from 'zod';
import { bool, duration } from '../../core/fields.js';
import { definePath, type HandlerContext, type PathSpec } from '../../core/framework.js';
import type { ExpirationManager, LeaseRecord, RevokeSummary } from '../../core/leases/index.js';
import type { CoreResponse } from '../../core/request.js';
import { invalid, notFound } from '../../util/errors.js';

type Leases = Pick<ExpirationManager, 'lookup' | 'list' | 'renew' | 'revoke' | 'revokePrefix' | 'tidy' | 'count' | 'maxLeases' | 'loaded'>;

const fields = z.object({
  lease_id: z.string().optional(),
  increment: duration().optional(),
  sync: bool().optional(),
  prefix: z.string().optional(),
});
const FIELD_HELP = {
  lease_id: 'The lease id (also accepted at the end of the URL).',
  increment: 'Seconds (or a duration) to extend the lease by; 0 = its original TTL. Never past the max TTL.',
  sync: 'Accepted for compatibility: revocation is always synchronous.',
};

/**
 * sys/leases/*: lookup, renew, revoke, revoke-prefix, revoke-force, tidy, count and LIST, plus
 * the legacy sys/renew, sys/revoke, sys/revoke-prefix and sys/revoke-force that node-vault uses.
 */
export function leasePaths(leases: Leases): PathSpec[] {
  const idOf = (ctx: HandlerContext<z.output<typeof fields>>): string => {
    const id = ctx.params['url_lease_id'] || ctx.data.lease_id || '';
    if (id === '') throw invalid('lease_id is required');
    return id;
  };
  const renew = async (ctx: HandlerContext<z.output<typeof fields>>): Promise<CoreResponse> => {
    const { record, warnings } = await leases.renew(idOf(ctx), ctx.data.increment ?? 0);
    return {
      secret: { leaseId: record.id, ttl: Math.max(0, Math.round((record.expireTime - Date.now()) / 1000)), renewable: record.renewable },
      ...(warnings.length > 0 ? { warnings } : {}),
    };
  };
  const revoke = async (ctx: HandlerContext<z.output<typeof fields>>): Promise<CoreResponse> => {
    await leases.revoke(idOf(ctx));
    return { noContent: true };
  };
  const revokePrefix = (force: boolean) => async (ctx: HandlerContext<z.output<typeof fields>>): Promise<CoreResponse> => {
    const prefix = ctx.params['prefix'] ?? '';
    if (prefix === '') throw invalid('prefix is required');
    const summary = await leases.revokePrefix(prefix, { force });
    return failuresOf(summary);
  };
  const renewSpec = (pattern: string, help: string) => definePath({ pattern, help, fields, fieldHelp: FIELD_HELP, operations: { update: renew } });
  const revokeSpec = (pattern: string, help: string) => definePath({ pattern, help, fields, fieldHelp: FIELD_HELP, operations: { update: revoke } });
  const prefixSpec = (pattern: string, force: boolean, help: string) => definePath({
    pattern, help, sudo: true, fields, fieldHelp: { prefix: 'The lease id prefix (in the URL).' }, operations: { update: revokePrefix(force) },
  });

  return [
    definePath({
      pattern: 'leases/lookup',
      help: 'Looks up a lease: issue and expire time, TTL, renewable; and its revocation error while revocation keeps failing.',
      fields,
      fieldHelp: FIELD_HELP,
      operations: {
        update: async (ctx) => {
          const record = await leases.lookup(ctx.data.lease_id ?? '');
          if (!record) throw invalid('invalid lease');
          return { data: view(record) };
        },
      },
    }),
    definePath({
      pattern: 'leases/lookup/:prefix*',
      help: 'Lists the lease ids (and folders) under a prefix.',
      sudo: true,
      operations: {
        list: async (ctx) => {
          const keys = await leases.list(ctx.params['prefix'] ?? '');
          if (keys.length === 0) throw notFound();
          return { data: { keys } };
        },
      },
    }),
    renewSpec('leases/renew/:url_lease_id*', 'Renews a lease (`lease_id`, `increment`), never past its max TTL.'),
    revokeSpec('leases/revoke/:url_lease_id*', 'Revokes a lease through the backend that issued it.'),
    prefixSpec('leases/revoke-prefix/:prefix*', false, 'Revokes every lease under a prefix (sudo).'),
    prefixSpec('leases/revoke-force/:prefix*', true, 'Revokes every lease under a prefix, dropping those whose backend fails (sudo).'),
    definePath({
      pattern: 'leases/tidy',
      help: 'Repairs the lease indexes and revokes leases whose token is gone.',
      operations: { update: async () => ({ data: await leases.tidy() }) },
    }),
    definePath({
      pattern: 'leases/count',
      help: 'How many leases are active, the cap, and whether loading after unseal is done (sudo).',
      sudo: true,
      operations: { read: async () => ({ data: { lease_count: leases.count(), max_leases: leases.maxLeases, loaded: leases.loaded } }) },
    }),
    // Vault's legacy paths (node-vault calls sys/revoke-prefix/:prefix).
    renewSpec('renew/:url_lease_id*', 'Legacy alias of sys/leases/renew.'),
    revokeSpec('revoke/:url_lease_id*', 'Legacy alias of sys/leases/revoke.'),
    prefixSpec('revoke-prefix/:prefix*', false, 'Legacy alias of sys/leases/revoke-prefix (sudo).'),
    prefixSpec('revoke-force/:prefix*', true, 'Legacy alias of sys/leases/revoke-force (sudo).'),
  ];
}

function view(r: LeaseRecord): Record<string, unknown> {
  const now = Date.now();
  return {
    id: r.id,
    issue_time: new Date(r.issueTime).toISOString(),
    expire_time: new Date(r.expireTime).toISOString(),
    last_renewal: r.lastRenewal === null ? null : new Date(r.lastRenewal).toISOString(),
    renewable: r.renewable && r.revocation === null && r.expireTime > now,
    ttl: Math.max(0, Math.round((r.expireTime - now) / 1000)),
    // Coffer: a lease whose revocation keeps failing says so (Vault only logs it).
    ...(r.revocation ? {
      revocation_error: r.revocation.lastError,
      revocation_attempts: r.revocation.attempts,
      last_revocation_attempt: new Date(r.revocation.lastAttempt).toISOString(),
      next_revocation_attempt: new Date(r.revocation.nextAttempt).toISOString(),
    } : {}),
  };
}

function failuresOf(summary: RevokeSummary): CoreResponse {
  if (summary.failed.length === 0) return { noContent: true };
  const shown = summary.failed.slice(0, 5).join(', ');
  throw invalid(`failed to revoke ${summary.failed.length} lease(s) (${shown}${summary.failed.length > 5 ? ', …' : ''}); their errors are on sys/leases/lookup and they will be retried`);
}
