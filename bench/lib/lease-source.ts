import * as z from 'zod';
import { bool, duration } from '../../src/core/fields.js';
import { definePath, type Backend, type BackendFactory } from '../../src/core/framework.js';

/**
 * A secrets engine that issues nothing but leases: `issue` returns a counter under a lease of
 * the requested TTL; revocation is counted (and refused while `config` says `fail_revoke`).
 * It lets the benchmark and the lease tests drive the real pipeline, lease stage, barrier,
 * expiry index and revocation path without a database. Mounted only where a test or the
 * benchmark passes it to startServer; never part of a real server.
 */
export const leaseSourceFactory: BackendFactory = (): Backend => {
  let issued = 0;
  const revoked: number[] = [];
  let renewals = 0;
  let failRevoke = false;
  return {
    type: 'lease-source',
    paths: [
      definePath({
        pattern: 'issue',
        help: 'Issues a leased counter (ttl, max_ttl, renewable).',
        fields: z.object({ ttl: duration().optional(), max_ttl: duration().optional(), renewable: bool().optional() }),
        operations: {
          update: async (ctx) => {
            const n = ++issued;
            return { data: { n }, lease: { ttl: ctx.data.ttl ?? 0, renewable: ctx.data.renewable ?? true, maxTtl: ctx.data.max_ttl ?? 0, internal: { n } } };
          },
        },
      }),
      definePath({
        pattern: 'config',
        help: 'fail_revoke: refuse revocations (to test retries).',
        fields: z.object({ fail_revoke: bool().optional() }),
        operations: {
          update: async (ctx) => { failRevoke = ctx.data.fail_revoke ?? false; return { noContent: true }; },
        },
      }),
      definePath({
        pattern: 'stats',
        help: 'How many leases were issued, revoked and renewed.',
        operations: { read: async () => ({ data: { issued, revoked: revoked.length, revoked_ids: revoked.slice(-1000), renewals } }) },
      }),
    ],
    secrets: {
      revoke: async (ctx) => {
        if (failRevoke) throw new Error('lease source: revocation refused (fail_revoke is set)');
        revoked.push(Number(ctx.internal['n']));
      },
      renew: async () => { renewals++; },
    },
  };
};
