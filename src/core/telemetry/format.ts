/**
 * The two shapes sys/metrics answers in: go-metrics' in-memory dump (JSON, what Vault returns by
 * default) and the Prometheus text exposition format (what Vault's Prometheus sink serves).
 * Label values are operator-chosen names only (cluster, namespace): never a token, a secret
 * path or a client address (SECURITY.md rule 1).
 */
import type { IntervalStats } from './timer.js';

export interface Label {
  readonly name: string;
  readonly value: string;
}

export interface Gauge {
  readonly name: string;
  readonly value: number;
  readonly labels: readonly Label[];
}

export interface SampleSeries {
  readonly name: string;
  readonly labels: readonly Label[];
}

export interface Summary extends SampleSeries {
  readonly count: number;
  readonly sum: number;
  /** [quantile, value] pairs; NaN when nothing was observed in the window. */
  readonly quantiles: readonly (readonly [number, number])[];
}

/** Prometheus text exposition format 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

// ---- go-metrics' in-memory dump ----------------------------------------------------------

/** go-metrics' key for sorting: the name and its labels, spaces as `_`. */
const hashOf = (s: SampleSeries): string => `${s.name}${s.labels.map((l) => `;${l.name}=${l.value}`).join('')}`.replace(/ /g, '_');
const displayLabels = (labels: readonly Label[]): Record<string, string> => Object.fromEntries(labels.map((l) => [l.name, l.value]));
const byHash = <T extends SampleSeries>(a: T, b: T): number => (hashOf(a) < hashOf(b) ? -1 : hashOf(a) > hashOf(b) ? 1 : 0);

/** Go's `time.Time.String()` of a UTC time rounded to the second: `2024-05-01 10:00:00 +0000 UTC`. */
export function goTimestamp(ms: number): string {
  return `${new Date(Math.round(ms / 1000) * 1000).toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
}

/**
 * The MetricsSummary go-metrics' DisplayMetrics returns: `Timestamp`, `Gauges`, `Points`,
 * `Counters`, `Samples`, each series with its `Labels` as an object. `rateSeconds` is the
 * interval length (go-metrics' Rate is the sum per second of the interval).
 */
export function inmemDump(
  timestampMs: number,
  gauges: readonly Gauge[],
  samples: readonly (SampleSeries & { stats: IntervalStats })[],
  rateSeconds: number,
  counters: readonly (SampleSeries & { stats: IntervalStats })[] = [],
): Record<string, unknown> {
  return {
    Timestamp: goTimestamp(timestampMs),
    Gauges: [...gauges].sort(byHash).map((g) => ({ Name: g.name, Value: g.value, Labels: displayLabels(g.labels) })),
    Points: [],
    Counters: [...counters].sort(byHash).map((c) => aggregate(c.name, c.stats, c.labels, rateSeconds)),
    Samples: [...samples].sort(byHash).map((s) => aggregate(s.name, s.stats, s.labels, rateSeconds)),
  };
}

function aggregate(name: string, s: IntervalStats, labels: readonly Label[], rateSeconds: number): Record<string, unknown> {
  const mean = s.count === 0 ? 0 : s.sum / s.count;
  const variance = s.count < 2 ? 0 : (s.count * s.sumSq - s.sum * s.sum) / (s.count * (s.count - 1));
  return {
    Name: name,
    Count: s.count,
    Rate: s.sum / rateSeconds,
    Sum: s.sum,
    Min: s.min,
    Max: s.max,
    Mean: mean,
    Stddev: Math.sqrt(Math.max(0, variance)),
    Labels: displayLabels(labels),
  };
}

// ---- Prometheus --------------------------------------------------------------------------

/** go-metrics' Prometheus names: the dotted name with ` .=-/` as `_`. */
export const prometheusName = (name: string): string => name.replace(/[ .=\-/]/g, '_');

const escapeLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

function labelText(labels: readonly Label[], extra?: Label): string {
  const all = extra ? [...labels, extra] : labels;
  if (all.length === 0) return '';
  return `{${all.map((l) => `${prometheusName(l.name)}="${escapeLabel(l.value)}"`).join(',')}}`;
}

function numberText(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

interface Family {
  readonly type: 'gauge' | 'summary' | 'counter';
  readonly lines: { readonly sortKey: string; readonly text: string }[];
}

/** Families sorted by name, each with HELP (the name, as go-metrics does) and TYPE, series sorted by labels. */
export function prometheusText(gauges: readonly Gauge[], summaries: readonly Summary[], counters: readonly Gauge[] = []): string {
  const families = new Map<string, Family>();
  const family = (name: string, type: Family['type']): Family => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { type, lines: [] }));
    return f;
  };
  for (const g of gauges) {
    const name = prometheusName(g.name);
    family(name, 'gauge').lines.push({ sortKey: labelText(g.labels), text: `${name}${labelText(g.labels)} ${numberText(g.value)}` });
  }
  for (const c of counters) {
    const name = prometheusName(c.name);
    family(name, 'counter').lines.push({ sortKey: labelText(c.labels), text: `${name}${labelText(c.labels)} ${numberText(c.value)}` });
  }
  for (const s of summaries) {
    const name = prometheusName(s.name);
    const labels = labelText(s.labels);
    const text = [
      ...s.quantiles.map(([q, v]) => `${name}${labelText(s.labels, { name: 'quantile', value: String(q) })} ${numberText(v)}`),
      `${name}_sum${labels} ${numberText(s.sum)}`,
      `${name}_count${labels} ${numberText(s.count)}`,
    ].join('\n');
    family(name, 'summary').lines.push({ sortKey: labels, text });
  }
  const out: string[] = [];
  for (const name of [...families.keys()].sort()) {
    const f = families.get(name)!;
    out.push(`# HELP ${name} ${name}`, `# TYPE ${name} ${f.type}`);
    for (const line of [...f.lines].sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0))) out.push(line.text);
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}
