import { inmemDump, prometheusText, PROMETHEUS_CONTENT_TYPE, type Gauge, type Label } from './format.js';
import { InFlightRequests, type TrackedRequest } from './inflight.js';
import { INTERVAL_MS, intervalOf, Timer } from './timer.js';

/** The `telemetry` config block, as ./config parses it. */
export interface TelemetrySettings {
  readonly prometheusRetentionSeconds: number;
  readonly disableHostname: boolean;
  readonly usageGaugePeriodSeconds: number;
}

/** The core services the gauges read, looked up when a snapshot is taken (a `Core` fits). */
export interface GaugeSources {
  readonly seal: { readonly state: { readonly kind: string } };
  readonly tokens: { listAccessors(): Promise<readonly string[]> };
  readonly leases: { count(): number };
}

export interface TelemetryOptions {
  /** Absent: no `telemetry` block, so (as in Vault) no Prometheus format. */
  readonly settings?: TelemetrySettings | undefined;
  /** Label of the core gauges, as Vault's `cluster` label. */
  readonly clusterName: string;
  readonly sources: () => GaugeSources | undefined;
}

/** A body that is not JSON (Prometheus text, Vault's plain-text errors): the HTTP layer sends it as is. */
export class RawText {
  constructor(readonly contentType: string, readonly text: string) {}
}

/** What sys/metrics answers: a JSON object, or RawText. */
export interface MetricsReply {
  readonly status: number;
  readonly body: Record<string, unknown> | RawText;
}

const QUANTILES = [0.5, 0.9, 0.99] as const;

/**
 * Coffer's metrics registry, shaped after Vault's go-metrics setup: an in-memory sink shown as
 * JSON and, when `prometheus_retention_time` is set, a Prometheus view. Timers are fed on the
 * request path; gauges are read from the core when someone asks.
 */
export class Telemetry {
  readonly inFlight = new InFlightRequests<TrackedRequest>();
  readonly #requests = new Timer('vault.core.handle_request');
  readonly #logins = new Timer('vault.core.handle_login_request');
  readonly #timers: readonly Timer[] = [this.#requests, this.#logins];
  /**
   * Vault's audit counters: every audited request adds 0, or 1 when no device took its entry, so
   * the count is entries attempted and the sum is failures (alert on the sum).
   */
  readonly #auditRequestFailure = new Timer('vault.audit.log_request_failure');
  readonly #auditResponseFailure = new Timer('vault.audit.log_response_failure');
  readonly #counters: readonly Timer[] = [this.#auditRequestFailure, this.#auditResponseFailure];
  readonly #retentionMs: number;
  readonly #usagePeriodMs: number;
  readonly #cluster: readonly Label[];
  readonly #sources: () => GaugeSources | undefined;
  /** go-metrics shows the current interval only while it is the first one. */
  readonly #firstInterval = intervalOf(performance.now());
  #tokenCount: { value: number; at: number } | undefined;
  #counting: Promise<number | undefined> | undefined;

  constructor(options: TelemetryOptions) {
    this.#retentionMs = (options.settings?.prometheusRetentionSeconds ?? 0) * 1000;
    this.#usagePeriodMs = (options.settings?.usageGaugePeriodSeconds ?? 600) * 1000;
    this.#cluster = [{ name: 'cluster', value: options.clusterName }];
    this.#sources = options.sources;
  }

  get prometheusEnabled(): boolean {
    return this.#retentionMs > 0;
  }

  /**
   * The hot path, once per request the core handled: one clock read (the other was taken when
   * the request arrived) and a few additions, nothing allocated.
   */
  requestHandled(req: TrackedRequest, login: boolean): void {
    const start = this.inFlight.startOf(req);
    if (start === undefined) return;
    const now = performance.now();
    (login ? this.#logins : this.#requests).observe(now - start, now);
  }

  /** The audit broker, after each request or response it logged (`failed`: no device wrote it). */
  auditLogged(kind: 'request' | 'response', failed: boolean): void {
    (kind === 'request' ? this.#auditRequestFailure : this.#auditResponseFailure).observe(failed ? 1 : 0, performance.now());
  }

  /** sys/metrics: `''` → JSON, `prometheus` → text; anything else, or Prometheus when off, is Vault's 400 in plain text. */
  async metrics(format: string): Promise<MetricsReply> {
    if (format === 'prometheus') {
      if (!this.prometheusEnabled) return { status: 400, body: new RawText('text/plain', 'prometheus is not enabled') };
      return { status: 200, body: new RawText(PROMETHEUS_CONTENT_TYPE, await this.#prometheus()) };
    }
    if (format !== '') return { status: 400, body: new RawText('text/plain', `metric response format "${format}" unknown`) };
    return { status: 200, body: await this.#inmem() };
  }

  async #inmem(): Promise<Record<string, unknown>> {
    const current = intervalOf(performance.now());
    const shown = current === this.#firstInterval ? current : current - 1;
    const inInterval = (series: readonly Timer[]) => series.flatMap((t) => {
      const stats = t.statsFor(shown);
      return stats ? [{ name: t.name, labels: [], stats }] : [];
    });
    return inmemDump(shown * INTERVAL_MS, await this.#gauges(), inInterval(this.#timers), INTERVAL_MS / 1000, inInterval(this.#counters));
  }

  async #prometheus(): Promise<string> {
    const now = performance.now();
    const summaries = this.#timers
      .filter((t) => t.count > 0 && now - t.lastUpdated <= this.#retentionMs)
      .map((t) => {
        const values = t.quantiles(now, QUANTILES);
        return { name: t.name, labels: [], count: t.count, sum: t.sum, quantiles: QUANTILES.map((q, i) => [q, values[i] ?? Number.NaN] as const) };
      });
    const counters = this.#counters
      .filter((c) => c.count > 0 && now - c.lastUpdated <= this.#retentionMs)
      .map((c) => ({ name: c.name, labels: [], value: c.sum }));
    return prometheusText(await this.#gauges(), summaries, counters);
  }

  async #gauges(): Promise<Gauge[]> {
    const sources = this.#sources();
    const unsealed = sources?.seal.state.kind === 'unsealed';
    const cluster = this.#cluster;
    const gauges: Gauge[] = [
      { name: 'vault.core.unsealed', value: unsealed ? 1 : 0, labels: cluster },
      // One node, no standbys: the unsealed node is the active one.
      { name: 'vault.core.active', value: unsealed ? 1 : 0, labels: cluster },
      { name: 'vault.core.in_flight_requests', value: this.inFlight.size, labels: cluster },
    ];
    if (sources && unsealed) {
      gauges.push({ name: 'vault.expire.num_leases', value: sources.leases.count(), labels: cluster });
      const tokens = await this.#tokens(sources);
      if (tokens !== undefined) gauges.push({ name: 'vault.token.count', value: tokens, labels: [{ name: 'namespace', value: 'root' }, ...cluster] });
    } else {
      this.#tokenCount = undefined;
    }
    const memory = process.memoryUsage();
    gauges.push(
      { name: 'vault.runtime.alloc_bytes', value: memory.heapUsed, labels: [] },
      { name: 'vault.runtime.sys_bytes', value: memory.rss, labels: [] },
      { name: 'vault.runtime.heap_total_bytes', value: memory.heapTotal, labels: [] },
      { name: 'vault.runtime.uptime_seconds', value: Math.floor(process.uptime()), labels: [] },
    );
    return gauges;
  }

  /** Counting tokens reads every one, so (as Vault) it is redone once per `usage_gauge_period` at most. */
  async #tokens(sources: GaugeSources): Promise<number | undefined> {
    if (this.#usagePeriodMs === 0) return undefined;
    const cached = this.#tokenCount;
    if (cached && Date.now() - cached.at < this.#usagePeriodMs) return cached.value;
    this.#counting ??= sources.tokens.listAccessors().then(
      (accessors) => {
        this.#tokenCount = { value: accessors.length, at: Date.now() };
        return accessors.length;
      },
      () => cached?.value,
    ).finally(() => {
      this.#counting = undefined;
    });
    return this.#counting;
  }
}
