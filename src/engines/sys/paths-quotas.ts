import * as z from 'zod';
import { bool, duration, number, strings } from '../../core/fields.js';
import { definePath, type PathSpec } from '../../core/framework.js';
import type { QuotaStore, RateLimitQuota } from '../../core/quotas/index.js';
import { invalid, notFound } from '../../util/errors.js';

/**
 * sys/quotas/config and sys/quotas/rate-limit[/:name], as Vault Community serves them. The
 * quotas are enforced by the HTTP layer before routing (see src/core/quotas/).
 */

const quotaFields = z.object({
  path: z.string().optional(),
  rate: number().optional(),
  interval: duration().optional(),
  block_interval: duration().optional(),
  role: z.string().optional(),
  inheritable: bool().optional(),
  type: z.string().optional(),
});

const configFields = z.object({
  enable_rate_limit_audit_logging: bool().optional(),
  enable_rate_limit_response_headers: bool().optional(),
  rate_limit_exempt_paths: strings().optional(),
});

const readShape = (q: RateLimitQuota): Record<string, unknown> => ({
  type: 'rate-limit', name: q.name, path: q.path, role: '', rate: q.rate,
  interval: q.interval, block_interval: q.blockInterval, inheritable: q.inheritable,
});

export function quotaPaths(quotas: QuotaStore): PathSpec[] {
  const list = async () => {
    const keys = quotas.list();
    if (keys.length === 0) throw notFound();
    return { data: { keys } };
  };
  return [
    definePath({
      pattern: 'quotas/config',
      help: 'Reads or writes the rate-limit quota configuration (response headers, audit logging of rejections, exempt paths).',
      fields: configFields,
      fieldHelp: {
        enable_rate_limit_audit_logging: 'Accepted and stored; rejected requests are not audited yet.',
        enable_rate_limit_response_headers: 'Adds X-Ratelimit-Limit, X-Ratelimit-Remaining and X-Ratelimit-Reset to rate-limited responses.',
        rate_limit_exempt_paths: 'Paths no rate-limit quota applies to (a trailing * matches a prefix); replaces the list.',
      },
      operations: {
        read: async () => {
          const c = quotas.config;
          return { data: {
            enable_rate_limit_audit_logging: c.enableRateLimitAuditLogging,
            enable_rate_limit_response_headers: c.enableRateLimitResponseHeaders,
            rate_limit_exempt_paths: [...c.rateLimitExemptPaths],
          } };
        },
        update: async (ctx) => {
          const d = ctx.data;
          await quotas.setConfig({
            ...(d.enable_rate_limit_audit_logging === undefined ? {} : { enableRateLimitAuditLogging: d.enable_rate_limit_audit_logging }),
            ...(d.enable_rate_limit_response_headers === undefined ? {} : { enableRateLimitResponseHeaders: d.enable_rate_limit_response_headers }),
            ...(d.rate_limit_exempt_paths === undefined ? {} : { rateLimitExemptPaths: d.rate_limit_exempt_paths.map((p) => p.replace(/^\/+/, '')) }),
          });
          return { noContent: true };
        },
      },
    }),
    definePath({
      pattern: 'quotas/rate-limit',
      help: 'Lists the rate-limit quotas.',
      operations: { list },
    }),
    definePath({
      pattern: 'quotas/rate-limit/:name',
      help: 'Reads, writes or deletes a rate-limit quota: `rate` requests per `interval` per client IP, on a mount, a path under a mount, or everything (empty `path`).',
      fields: quotaFields,
      fieldHelp: {
        name: 'The name of the quota.',
        path: 'A mount (`secret/`), a path under a mount (`secret/data/app`, or `secret/data/app/*`), or empty for a global quota.',
        rate: 'Requests allowed per interval per client IP; greater than 0.',
        interval: 'The window the rate applies to (default 1s).',
        block_interval: 'Once a client goes over the limit, how long all its requests are refused.',
        role: 'Login role quotas are not supported (must be empty).',
        inheritable: 'Global quotas only (there are no namespaces); defaults to true for them.',
      },
      operations: {
        read: async (ctx) => {
          const q = quotas.get(ctx.params['name'] ?? '');
          if (!q) throw notFound();
          return { data: readShape(q) };
        },
        update: async (ctx) => {
          const d = ctx.data;
          if (d.type !== undefined && d.type !== '' && d.type !== 'rate-limit') throw invalid(`unsupported quota type ${JSON.stringify(d.type)}`);
          if (d.role) throw invalid('role-based rate limit quotas are not supported');
          if (d.rate === undefined) throw invalid(`'rate' is missing`);
          await quotas.put({
            name: ctx.params['name'] ?? '', path: d.path ?? '', rate: d.rate,
            interval: d.interval ?? 0, blockInterval: d.block_interval ?? 0, inheritable: d.inheritable,
          });
          return { noContent: true };
        },
        delete: async (ctx) => {
          await quotas.delete(ctx.params['name'] ?? '');
          return { noContent: true };
        },
      },
    }),
  ];
}
