import { performance } from 'node:perf_hooks';
import type { ArtifactStore } from '../artifacts/store';
import type { DatabaseHandle, Db } from '../db/client';
import type { ModelInputSchema, ModelOutputSchema } from '../db/schema/models';
import type { TrafficRoute } from '../domain/rollout';
import { DEFAULT_SERVING_CONFIG, type ServingConfig } from '../platform/config';
import { newId } from '../platform/ids';
import type { Logger } from '../platform/logger';
import { ServiceError } from '../platform/service-error';
import { UserError } from '../platform/user-error';
import { InferenceBatcher } from './batcher';
import { ServingMetrics, type PredictionLabels } from './metrics';
import { PredictionLogWriter, type PredictionLogRow } from './prediction-log';
import { readPredictions } from './read-predictions';
import { RoutingTable, type EndpointTraffic } from './routing-table';
import { versionLabel, type ServedVersion } from './served-version';
import { SessionCache } from './session-cache';
import { chooseRoute, type ServedRoute } from './traffic-split';
import { recordsToMatrix } from './validate-records';

/** A class with the probability of every class (two-class models also give `probability` of the second), or a value. */
export type Prediction =
  | { id: string; label: string | number; probability?: number; probabilities: Record<string, number> }
  | { id: string; value: number };

export interface PredictResponse {
  endpoint: string;
  modelVersion: { id: string; model: string; version: number };
  /** Which side of a canary split answered. */
  route: ServedRoute;
  predictions: Prediction[];
}

export interface PredictOptions {
  /** Sticky routing: one key always lands on the same side of a canary split (X-Routing-Key). */
  routingKey?: string;
  /** Logged with every row of the request (and its shadow copies); one is made up when absent. */
  requestId?: string;
  /**
   * Answer from this version, the endpoint's stable or its canary, instead of by the traffic split (a versioned
   * V2 infer). Logged on that version's route, so its gates see it. A version the endpoint does not serve is a 404.
   */
  versionId?: string;
}

/** An endpoint as a protocol front end (KServe V2 metadata) describes it. */
export interface EndpointDescription {
  endpoint: string;
  /** A stable version is set and its session is loaded and warm. */
  ready: boolean;
  versions: { id: string; model: string; version: number; route: TrafficRoute; weight: number; inputSchema: ModelInputSchema; outputSchema: ModelOutputSchema }[];
}

export interface PredictorOptions {
  db: Db;
  artifacts: Pick<ArtifactStore, 'get'>;
  logger: Logger;
  metrics?: ServingMetrics;
  config?: ServingConfig;
  /** LISTEN/NOTIFY for routing-table changes (the database handle's); without it the poll alone keeps the table current. */
  listen?: DatabaseHandle['listen'];
  /** The database handle's COPY (PGlite), for the prediction log. */
  copyIn?: DatabaseHandle['copyIn'];
  /** For canary draws; tests pass a seeded one. */
  random?: () => number;
}

/** Seconds a client told to back off waits before retrying. */
const RETRY_AFTER_SECONDS = 1;

/**
 * The inference data plane: routes each request by the in-memory routing table (no database read), runs it
 * through the version's warm ONNX session with dynamic batching, and answers once its rows are committed
 * to the prediction log (group commit). Shadow copies run after the answer and are never returned.
 */
export class Predictor {
  readonly metrics: ServingMetrics;
  readonly routing: RoutingTable;
  readonly sessions: SessionCache;
  readonly log: PredictionLogWriter;
  private readonly batcher: InferenceBatcher;
  private readonly logger: Logger;
  private readonly random: () => number;
  private readonly shadows = new Set<Promise<void>>();
  /** Predict calls past routing and not yet answered: stop() lets them finish before it closes the log. */
  private inFlight = 0;
  private onDrained: (() => void) | undefined;
  private state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';

  constructor(opts: PredictorOptions) {
    const config = opts.config ?? DEFAULT_SERVING_CONFIG;
    this.logger = opts.logger;
    this.random = opts.random ?? Math.random;
    this.metrics = opts.metrics ?? new ServingMetrics();
    this.sessions = new SessionCache({ artifacts: opts.artifacts, maxSessions: config.sessionCacheSize });
    this.routing = new RoutingTable({ db: opts.db, sessions: this.sessions, logger: opts.logger, metrics: this.metrics, pollMs: config.routingPollMs, listen: opts.listen });
    this.batcher = new InferenceBatcher({ ...config.batching, onRun: (label, rows) => this.metrics.observeBatch(label, rows) });
    this.log = new PredictionLogWriter({
      db: opts.db,
      copyIn: opts.copyIn,
      ...config.predictionLog,
      // PostgreSQL commits on several pooled connections at once; a request then waits for its own commit, not the one before.
      concurrency: opts.copyIn ? 1 : 4,
      logger: opts.logger,
      onPending: (rows) => this.metrics.setLogPending(rows),
      onWritten: (rows) => this.metrics.observeLogWritten(rows),
    });
  }

  /** Starts listening for traffic changes and polling. Predict works before (it loads endpoints lazily) but sees changes late. */
  async start(): Promise<void> {
    if (this.state !== 'new') return;
    this.state = 'running';
    await this.routing.start();
  }

  /**
   * Graceful stop: requests already past routing finish, shadow copies started finish, the prediction log
   * is flushed and every session released. Call it after the HTTP server stopped taking requests.
   */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    this.state = 'stopping';
    await this.routing.stop();
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.onDrained = resolve));
    while (this.shadows.size > 0) await Promise.allSettled([...this.shadows]);
    await this.log.close();
    await this.sessions.close();
    this.state = 'stopped';
  }

  async predict(projectId: string, endpointName: string, records: Record<string, unknown>[], opts: PredictOptions = {}): Promise<PredictResponse> {
    this.inFlight++;
    try {
      return await this.answer(projectId, endpointName, records, opts);
    } finally {
      if (--this.inFlight === 0) this.onDrained?.();
    }
  }

  private async answer(projectId: string, endpointName: string, records: Record<string, unknown>[], opts: PredictOptions): Promise<PredictResponse> {
    const traffic = this.routing.get(projectId, endpointName) ?? (await this.routing.resolve(projectId, endpointName));
    if (!traffic) {
      throw new UserError('endpoint_not_found', `There is no endpoint named "${endpointName.slice(0, 80)}"; a pipeline creates it when it deploys a model.`, 404, {
        field: 'endpoint',
      });
    }
    if (!traffic.stable) throw new UserError('endpoint_not_ready', `Endpoint "${traffic.name}" has no model deployed yet.`, 409);
    if (this.state === 'stopped' || this.state === 'stopping') throw new ServiceError('shutting_down', 'This server is shutting down; retry the request (another instance, or this one once restarted).', 503, { retryAfterSeconds: RETRY_AFTER_SECONDS });
    const route = opts.versionId !== undefined ? pinnedRoute(traffic, opts.versionId) : chooseRoute(traffic.canary?.weight ?? 0, opts.routingKey, this.random);
    const version = route === 'canary' && traffic.canary ? traffic.canary.version : traffic.stable;
    const features = version.inputSchema.features;
    const labels: PredictionLabels = { project: traffic.projectName, endpoint: traffic.name, version: versionLabel(version), route };
    let x: Float32Array;
    try {
      x = recordsToMatrix(records, features);
    } catch (err) {
      // Bad input is counted against the version it was routed to: a client sending it shows on the dashboard.
      if (err instanceof UserError) this.metrics.observeError(labels, err.code, records.length);
      throw err;
    }
    // Admitted before the model runs: an answer whose log rows cannot be written soon must not be given.
    const reservation = this.log.tryReserve(records.length);
    if (!reservation) {
      this.metrics.observeShed('prediction_log_backpressure');
      throw new ServiceError(
        'prediction_log_backpressure',
        `The prediction log is ${this.log.pendingRows} rows behind; retry after ${RETRY_AFTER_SECONDS} s or send fewer records per second.`,
        503,
        { retryAfterSeconds: RETRY_AFTER_SECONDS },
      );
    }
    const requestId = opts.requestId ?? newId('req');
    const started = performance.now();
    const rowOf = (record: Record<string, unknown>, fields: Pick<PredictionLogRow, 'id' | 'outputs' | 'error'>, latencyMs: number): PredictionLogRow => ({
      ...fields,
      endpointId: traffic.endpointId,
      modelVersionId: version.id,
      route,
      requestId,
      inputs: featuresOf(record, features),
      latencyMs,
    });

    let results: Prediction[];
    let latencyMs: number;
    try {
      const outputs = await this.infer(version, x, records.length);
      latencyMs = performance.now() - started;
      results = readPredictions(version.outputSchema, outputs, records.length).map((p) => ({ id: newId('pred'), ...p }));
    } catch (err) {
      const failure = modelFailure(err, version);
      const failedMs = performance.now() - started;
      // A failing version must show in the error-rate gate: its failures are logged like its answers.
      await reservation.write(records.map((r) => rowOf(r, { id: newId('pred'), outputs: null, error: `${failure.code}: ${failure.message}` }, failedMs))).catch((logErr: unknown) => {
        this.logger.error({ err: logErr, requestId }, 'failed prediction could not be logged');
      });
      this.metrics.observeError(labels, failure.code, records.length, failedMs / 1000);
      throw failure;
    }
    await reservation.write(results.map((p, i) => rowOf(records[i] as Record<string, unknown>, { id: p.id, outputs: outputOf(p), error: null }, latencyMs)));
    this.metrics.observePrediction(labels, records.length, (performance.now() - started) / 1000);
    if (traffic.shadow) this.runShadow(traffic, traffic.shadow, records, requestId);
    return { endpoint: traffic.name, modelVersion: { id: version.id, model: version.model, version: version.version }, route, predictions: results };
  }

  /** What the routing table holds for the endpoint (loading it on first use); undefined when there is none. */
  async describe(projectId: string, endpointName: string): Promise<EndpointDescription | undefined> {
    const traffic = this.routing.get(projectId, endpointName) ?? (await this.routing.resolve(projectId, endpointName));
    if (!traffic) return undefined;
    const versions: EndpointDescription['versions'] = [];
    const add = (v: ServedVersion, route: TrafficRoute, weight: number): void => {
      versions.push({ id: v.id, model: v.model, version: v.version, route, weight, inputSchema: v.inputSchema, outputSchema: v.outputSchema });
    };
    if (traffic.stable) add(traffic.stable, 'stable', 100 - (traffic.canary?.weight ?? 0));
    if (traffic.canary) add(traffic.canary.version, 'canary', traffic.canary.weight);
    if (traffic.shadow) add(traffic.shadow, 'shadow', 0);
    return { endpoint: traffic.name, ready: traffic.stable !== null && this.sessions.isWarm(traffic.stable.id), versions };
  }

  /** One onnxruntime run (batched with concurrent requests to the same version); every output must be finite. */
  private async infer(version: ServedVersion, x: Float32Array, n: number): Promise<Float32Array> {
    const outputs = await this.batcher.run(version.id, x, n, (batch, rows) => this.sessions.run(version, batch, rows), versionLabel(version));
    const bad = outputs.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      const record = Math.floor(bad / (outputs.length / n));
      throw new ServiceError(
        'model_output_invalid',
        `Model ${versionLabel(version)} answered a non-finite number (NaN or Infinity) for records[${record}]; the version is broken: roll it back or deploy another.`,
        500,
        { model: version.model, version: version.version, record },
      );
    }
    return outputs;
  }

  /** Runs the shadow version on a copy of the request after the answer, logging its rows (route shadow); never awaited by the caller. */
  private runShadow(traffic: EndpointTraffic, shadow: ServedVersion, records: Record<string, unknown>[], requestId: string): void {
    const labels: PredictionLabels = { project: traffic.projectName, endpoint: traffic.name, version: versionLabel(shadow), route: 'shadow' };
    const task = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      // The shadow is the first thing to give up under pressure: its rows are dropped (and counted), the answers never are.
      if (!this.log.hasRoomFor(records.length)) {
        this.metrics.observeShed('shadow_log_pressure');
        return;
      }
      const features = shadow.inputSchema.features;
      const started = performance.now();
      let rows: PredictionLogRow[];
      const row = (record: Record<string, unknown>, outputs: Record<string, unknown> | null, error: string | null, latencyMs: number): PredictionLogRow => ({
        id: newId('pred'),
        endpointId: traffic.endpointId,
        modelVersionId: shadow.id,
        route: 'shadow',
        requestId,
        inputs: featuresOf(record, features),
        outputs,
        latencyMs,
        error,
      });
      try {
        const outputs = await this.infer(shadow, recordsToMatrix(records, features), records.length);
        const latencyMs = performance.now() - started;
        rows = readPredictions(shadow.outputSchema, outputs, records.length).map((p, i) => row(records[i] as Record<string, unknown>, p, null, latencyMs));
        this.metrics.observePrediction(labels, records.length, latencyMs / 1000);
      } catch (err) {
        const failure = err instanceof UserError ? err : modelFailure(err, shadow);
        const latencyMs = performance.now() - started;
        rows = records.map((r) => row(r, null, `${failure.code}: ${failure.message}`, latencyMs));
        this.metrics.observeError(labels, failure.code, records.length, latencyMs / 1000);
      }
      if (!this.log.offer(rows)) this.metrics.observeShed('shadow_log_pressure');
    });
    const tracked = task
      .catch((err: unknown) => this.logger.error({ err, requestId, endpoint: traffic.name }, 'shadow prediction failed'))
      .finally(() => this.shadows.delete(tracked));
    this.shadows.add(tracked);
  }
}

/** The side of the split that serves `versionId`; the traffic may have changed since the caller looked (404 then). */
function pinnedRoute(traffic: EndpointTraffic, versionId: string): ServedRoute {
  if (traffic.stable?.id === versionId) return 'stable';
  if (traffic.canary?.version.id === versionId) return 'canary';
  const serving = [traffic.stable, traffic.canary?.version].filter((v) => v !== null && v !== undefined).map(versionLabel);
  throw new UserError('model_version_not_found', `Endpoint "${traffic.name}" no longer serves that version; it serves ${serving.join(' and ')}.`, 404, { field: 'version' });
}

/** The error a failed model run answers with: a non-finite output keeps its code, anything else (load, run) is model_run_failed. */
function modelFailure(err: unknown, version: ServedVersion): ServiceError {
  if (err instanceof ServiceError) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new ServiceError('model_run_failed', `Model ${versionLabel(version)} could not run: ${reason.slice(0, 300)}`, 500, { model: version.model, version: version.version });
}

/** What the prediction log keeps of a request's record: the model's features only. */
function featuresOf(record: Record<string, unknown>, features: string[]): Record<string, unknown> {
  let keys = 0;
  for (const _key in record) keys++;
  // recordsToMatrix found every feature in it, so a record with as many keys holds nothing else: no copy needed.
  if (keys === features.length) return record;
  const kept: Record<string, unknown> = {};
  for (const f of features) kept[f] = record[f];
  return kept;
}

/** What the prediction log keeps of an answer: everything but its id. */
function outputOf(prediction: Prediction): Record<string, unknown> {
  const { id: _id, ...output } = prediction;
  return output;
}
