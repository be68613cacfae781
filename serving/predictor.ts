import { performance } from 'node:perf_hooks';
import { and, eq, inArray } from 'drizzle-orm';
import type { InferenceSession } from 'onnxruntime-node';
import type { ArtifactStore } from '../artifacts/store';
import type { Db } from '../db/client';
import { endpoints, models, modelVersions, predictions, type ModelInputSchema, type ModelOutputSchema } from '../db/schema';
import type { TrafficRoute } from '../domain/rollout';
import { newId } from '../platform/ids';
import { UserError } from '../platform/user-error';
import { loadOnnxSession, runOnnxModel } from './onnx-session';
import { recordsToMatrix } from './validate-records';
import { readPredictions } from './read-predictions';

/** A class with the probability of every class (two-class models also give `probability` of the second), or a value. */
export type Prediction =
  | { id: string; label: string | number; probability?: number; probabilities: Record<string, number> }
  | { id: string; value: number };

export interface PredictResponse {
  endpoint: string;
  modelVersion: { id: string; model: string; version: number };
  /** Which traffic route answered: the caller never gets a shadow's answer. */
  route: Exclude<TrafficRoute, 'shadow'>;
  predictions: Prediction[];
}

export interface PredictOptions {
  /** Requests with the same key go to the same version while the weights stay put. */
  routingKey?: string;
  /** The HTTP request's id, kept in the prediction log. */
  requestId?: string;
}

/** What an endpoint serves, for protocol metadata (KServe V2) and readiness. */
export interface EndpointDescription {
  endpoint: string;
  /** A stable version is deployed, so a predict can be answered. */
  ready: boolean;
  versions: {
    id: string;
    model: string;
    version: number;
    route: TrafficRoute;
    /** Percent of traffic (a shadow gets a copy of all of it and answers nobody: 0). */
    weight: number;
    inputSchema: ModelInputSchema;
    outputSchema: ModelOutputSchema;
  }[];
}

const MAX_CACHED_SESSIONS = 16;

/** Serves endpoints with onnxruntime-node; every answered prediction is logged before it is returned. */
export class Predictor {
  private readonly sessions = new Map<string, Promise<InferenceSession>>();

  constructor(
    private readonly db: Db,
    private readonly artifacts: ArtifactStore,
  ) {}

  async predict(projectId: string, endpointName: string, records: Record<string, unknown>[], opts: PredictOptions = {}): Promise<PredictResponse> {
    const [endpoint] = await this.db.select().from(endpoints).where(and(eq(endpoints.projectId, projectId), eq(endpoints.name, endpointName)));
    if (!endpoint) {
      throw new UserError('endpoint_not_found', `There is no endpoint named "${endpointName.slice(0, 80)}"; a pipeline creates it when it deploys a model.`, 404, {
        field: 'endpoint',
      });
    }
    if (!endpoint.stableVersionId) throw new UserError('endpoint_not_ready', `Endpoint "${endpointName}" has no model deployed yet.`, 409);
    // Interim weighted routing (the serving-core work replaces it with an in-memory routing table): canary by weight, shadow as a logged copy.
    const route: 'stable' | 'canary' = endpoint.canaryVersionId && endpoint.canaryWeight > 0 && Math.random() * 100 < endpoint.canaryWeight ? 'canary' : 'stable';
    const versionId = route === 'canary' && endpoint.canaryVersionId ? endpoint.canaryVersionId : endpoint.stableVersionId;
    const answer = await this.run(endpoint.id, versionId, route, records, opts.requestId);
    if (endpoint.shadowVersionId) await this.run(endpoint.id, endpoint.shadowVersionId, 'shadow', records, opts.requestId).catch(() => undefined);
    if (answer.error) throw answer.error;
    return { endpoint: endpoint.name, modelVersion: answer.modelVersion, route, predictions: answer.predictions };
  }

  /** Runs one version on the records and logs every row, answered or failed, with its route. */
  private async run(
    endpointId: string,
    versionId: string,
    route: 'stable' | 'canary' | 'shadow',
    records: Record<string, unknown>[],
    requestId: string | undefined,
  ): Promise<{ modelVersion: PredictResponse['modelVersion']; predictions: Prediction[]; error?: Error }> {
    const [row] = await this.db
      .select({ version: modelVersions, modelName: models.name })
      .from(modelVersions)
      .innerJoin(models, eq(models.id, modelVersions.modelId))
      .where(eq(modelVersions.id, versionId));
    if (!row) throw new Error(`model version ${versionId} vanished`);
    const { version } = row;
    const features = version.inputSchema.features;
    const x = recordsToMatrix(records, features);
    const started = performance.now();
    const session = await this.session(version.id, version.onnxUri);
    const { outputSchema } = version;
    const outputs = await runOnnxModel(session, x, records.length, features.length, outputSchema.name);
    const latencyMs = performance.now() - started;
    const finite = outputs.every((v) => Number.isFinite(v));
    const results: Prediction[] = readPredictions(outputSchema, outputs, records.length).map((p) => ({ id: newId('pred'), ...p }));
    await this.db.insert(predictions).values(
      results.map((p, i) => ({
        id: p.id,
        endpointId,
        modelVersionId: version.id,
        inputs: Object.fromEntries(features.map((f) => [f, records[i]?.[f]])),
        outputs: finite ? outputOf(p) : null,
        latencyMs: latencyMs / results.length,
        route,
        requestId,
        ...(!finite && { error: 'non_finite_output' }),
      })),
    );
    const modelVersion = { id: version.id, model: row.modelName, version: version.version };
    return { modelVersion, predictions: results, ...(!finite && { error: new Error(`model ${row.modelName} v${version.version} answered a non-finite output`) }) };
  }

  /** The endpoint's versions by route, read from the database; undefined when the project has no such endpoint. */
  async describe(projectId: string, endpointName: string): Promise<EndpointDescription | undefined> {
    const [endpoint] = await this.db
      .select({ name: endpoints.name, stable: endpoints.stableVersionId, canary: endpoints.canaryVersionId, canaryWeight: endpoints.canaryWeight, shadow: endpoints.shadowVersionId })
      .from(endpoints)
      .where(and(eq(endpoints.projectId, projectId), eq(endpoints.name, endpointName)));
    if (!endpoint) return undefined;
    const routes: { id: string; route: TrafficRoute; weight: number }[] = [];
    const canaryWeight = endpoint.canary ? endpoint.canaryWeight : 0;
    if (endpoint.stable) routes.push({ id: endpoint.stable, route: 'stable', weight: 100 - canaryWeight });
    if (endpoint.canary) routes.push({ id: endpoint.canary, route: 'canary', weight: canaryWeight });
    if (endpoint.shadow) routes.push({ id: endpoint.shadow, route: 'shadow', weight: 0 });
    const rows =
      routes.length === 0
        ? []
        : await this.db
            .select({ id: modelVersions.id, model: models.name, version: modelVersions.version, inputSchema: modelVersions.inputSchema, outputSchema: modelVersions.outputSchema })
            .from(modelVersions)
            .innerJoin(models, eq(models.id, modelVersions.modelId))
            .where(inArray(modelVersions.id, routes.map((r) => r.id)));
    const versions = routes.flatMap((r) => {
      const row = rows.find((v) => v.id === r.id);
      return row ? [{ ...row, route: r.route, weight: r.weight }] : [];
    });
    return { endpoint: endpoint.name, ready: endpoint.stable !== null, versions };
  }

  private session(modelVersionId: string, onnxUri: string): Promise<InferenceSession> {
    let session = this.sessions.get(modelVersionId);
    if (!session) {
      session = this.artifacts.get(onnxUri).then(loadOnnxSession);
      // A failed load is not cached, so the next request tries again.
      session.catch(() => this.sessions.delete(modelVersionId));
      this.sessions.set(modelVersionId, session);
      if (this.sessions.size > MAX_CACHED_SESSIONS) {
        const oldest = this.sessions.keys().next().value;
        if (oldest !== undefined) this.sessions.delete(oldest);
      }
    }
    return session;
  }
}

/** What the prediction log keeps of an answer: everything but its id. */
function outputOf(prediction: Prediction): Record<string, unknown> {
  const { id: _id, ...output } = prediction;
  return output;
}
