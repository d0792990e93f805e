import * as z from 'zod';
import { definePath, type PathSpec } from '../../core/framework.js';
import type { Telemetry } from '../../core/telemetry/index.js';

/**
 * sys/metrics and sys/in-flight-req as Vault serves them to a token: a read capability on the
 * path is enough (neither needs sudo), and both answer with a bare body, not the envelope.
 * A listener can open either to callers without a token (`unauthenticated_metrics_access`,
 * `unauthenticated_in_flight_requests_access`); the HTTP layer answers those itself.
 */
export function metricsPaths(telemetry: Pick<Telemetry, 'metrics' | 'inFlight'>): PathSpec[] {
  return [
    definePath({
      pattern: 'metrics',
      help: 'Telemetry metrics: go-metrics\' in-memory dump as JSON, or the Prometheus text format with format=prometheus.',
      fields: z.object({ format: z.string().optional() }),
      fieldHelp: { format: '"prometheus" for the Prometheus text format (needs prometheus_retention_time); empty for JSON.' },
      operations: {
        read: async (ctx) => ({ raw: await telemetry.metrics(ctx.data.format ?? '') }),
      },
    }),
    definePath({
      pattern: 'in-flight-req',
      help: 'The requests being served: start time, client address, path (never the query), method.',
      operations: {
        read: async () => ({ raw: { status: 200, body: telemetry.inFlight.snapshot() } }),
      },
    }),
  ];
}
