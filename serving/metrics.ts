import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { TrafficRoute } from '../domain/rollout';

/** Labels of one answered (or failed) prediction request. */
export interface PredictionLabels {
  project: string;
  endpoint: string;
  /** `<model>:<version>` of the version that answered. */
  version: string;
  route: TrafficRoute;
}

/**
 * The inference server's Prometheus metrics (served at /metrics). One registry per process, so a test
 * factory and a benchmark each read their own figures.
 */
export class ServingMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'project' | 'endpoint' | 'version' | 'route' | 'outcome'>;
  private readonly latency: Histogram<'project' | 'endpoint' | 'version' | 'route'>;
  private readonly errors: Counter<'project' | 'endpoint' | 'version' | 'route' | 'code'>;
  private readonly shed: Counter<'reason'>;
  private readonly logPending: Gauge;
  private readonly logWritten: Counter;
  private readonly batchRows: Histogram<'version'>;
  private readonly rolloutStep: Gauge<'project' | 'endpoint'>;
  private readonly trafficWeight: Gauge<'project' | 'endpoint' | 'version' | 'route'>;
  /** The weight series last set per endpoint, removed when its traffic changes (a retired version's series goes). */
  private readonly trafficSeries = new Map<string, { version: string; route: TrafficRoute }[]>();

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'factory_' });
    const registers = [this.registry];
    this.requests = new Counter({ name: 'factory_predictions_total', help: 'Prediction records answered, by endpoint, version, route and outcome (ok | error).', labelNames: ['project', 'endpoint', 'version', 'route', 'outcome'], registers });
    this.latency = new Histogram({
      name: 'factory_prediction_latency_seconds',
      help: 'Time from a predict request reaching the router to its answer, by endpoint, version and route.',
      labelNames: ['project', 'endpoint', 'version', 'route'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.errors = new Counter({ name: 'factory_prediction_errors_total', help: 'Predict requests that failed, by endpoint, version, route and error code.', labelNames: ['project', 'endpoint', 'version', 'route', 'code'], registers });
    this.shed = new Counter({ name: 'factory_predictions_shed_total', help: 'Predict requests refused with 503 to protect the prediction log, by reason.', labelNames: ['reason'], registers });
    this.logPending = new Gauge({ name: 'factory_prediction_log_pending_rows', help: 'Prediction-log rows accepted but not yet written.', registers });
    this.logWritten = new Counter({ name: 'factory_prediction_log_rows_written_total', help: 'Prediction-log rows written to the database.', registers });
    this.batchRows = new Histogram({ name: 'factory_inference_batch_rows', help: 'Rows per onnxruntime run after dynamic batching, by model version.', labelNames: ['version'], buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], registers });
    this.rolloutStep = new Gauge({ name: 'factory_rollout_step', help: 'Current step (0-based) of the endpoint\'s running rollout; -1 when none runs.', labelNames: ['project', 'endpoint'], registers });
    this.trafficWeight = new Gauge({ name: 'factory_endpoint_traffic_weight_percent', help: 'Share of an endpoint\'s traffic each version takes, by route (shadow gets a copy: 100).', labelNames: ['project', 'endpoint', 'version', 'route'], registers });
  }

  observePrediction(labels: PredictionLabels, records: number, latencySeconds: number): void {
    this.requests.inc({ ...labels, outcome: 'ok' }, records);
    this.latency.observe(labels, latencySeconds);
  }

  /** `latencySeconds` absent: refused before the model ran (bad input), so the latency histogram is left alone. */
  observeError(labels: PredictionLabels, code: string, records: number, latencySeconds?: number): void {
    this.requests.inc({ ...labels, outcome: 'error' }, records);
    this.errors.inc({ ...labels, code });
    if (latencySeconds !== undefined) this.latency.observe(labels, latencySeconds);
  }

  observeShed(reason: string): void {
    this.shed.inc({ reason });
  }

  setLogPending(rows: number): void {
    this.logPending.set(rows);
  }

  observeLogWritten(rows: number): void {
    this.logWritten.inc(rows);
  }

  observeBatch(version: string, rows: number): void {
    this.batchRows.observe({ version }, rows);
  }

  /** Replaces an endpoint's traffic gauges: each version's weight per route, and the rollout step (-1 without one). */
  setTraffic(project: string, endpoint: string, routes: { version: string; route: TrafficRoute; weight: number }[], rolloutStep: number): void {
    const key = `${project}\u0000${endpoint}`;
    for (const old of this.trafficSeries.get(key) ?? []) this.trafficWeight.remove({ project, endpoint, ...old });
    this.trafficSeries.set(key, routes.map(({ version, route }) => ({ version, route })));
    for (const r of routes) this.trafficWeight.set({ project, endpoint, version: r.version, route: r.route }, r.weight);
    this.rolloutStep.set({ project, endpoint }, rolloutStep);
  }

  contentType(): string {
    return this.registry.contentType;
  }

  async render(): Promise<string> {
    return this.registry.metrics();
  }
}
