/**
 * Telemetry: Vault's sys/metrics and sys/in-flight-req data (see docs/telemetry.md).
 *
 *   const telemetry = new Telemetry({ settings: config.telemetry, clusterName, sources: () => core });
 */
export { Telemetry, RawText, type GaugeSources, type MetricsReply, type TelemetryOptions, type TelemetrySettings } from './telemetry.js';
export { InFlightRequests, type InFlightEntry, type TrackedRequest, type TrackedResponse } from './inflight.js';
export { PROMETHEUS_CONTENT_TYPE } from './format.js';

/**
 * Vault's format from the Accept header, when no `format` is given: a Prometheus server asks for
 * OpenMetrics first, and `prometheus/telemetry` is the Prometheus schema's type.
 */
export function metricsFormatFromAccept(accept: string | undefined): string {
  if (accept === undefined) return '';
  return accept.startsWith('application/openmetrics-text') || accept.includes('prometheus/telemetry') ? 'prometheus' : '';
}
