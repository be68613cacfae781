import { performance } from 'node:perf_hooks';
import { Context } from '@temporalio/activity';
import { and, desc, eq, isNull, lt, or } from 'drizzle-orm';
import type { InferenceSession } from 'onnxruntime-node';
import { endpoints, models, modelVersions, predictions } from '../../db/schema';
import type { ModelOutputSchema } from '../../db/schema/models';
import { readPredictionWindow } from '../../db/queries/prediction-window';
import { liveServedRoutes } from '../../db/queries/served-routes';
import { judgeServing } from '../../domain/serving-agreement';
import { SERVING_STALE_AFTER_MS } from '../rollout/serving-agreement';
import type {
  EvaluateRolloutGatesInput,
  LatencySummary,
  RolloutGatesResult,
  RolloutSimulationReport,
  SimulateRolloutInput,
} from '../../domain/rollout-evaluation';
import { evaluateGates, percentileCont } from '../../ml/rollout-gates';
import { compareClassifications, compareRegressions, judgeSimulation, type ClassAnswer } from '../../ml/rollout-simulation';
import { UserError } from '../../platform/user-error';
import { loadOnnxSession, runOnnxModel } from '../../serving/onnx-session';
import { readPredictions } from '../../serving/read-predictions';
import type { ActivityDeps } from '../deps';
import { throttledHeartbeat } from '../heartbeat';

export type {
  EvaluateRolloutGatesInput,
  RolloutGatesResult,
  RolloutSimulationReport,
  SimulateRolloutInput,
} from '../../domain/rollout-evaluation';

/** Logged requests read and scored per round trip. */
const REPLAY_CHUNK = 100;
export const DEFAULT_REPLAY_REQUESTS = 1000;
export const MAX_REPLAY_REQUESTS = 10_000;
/** One-row calls timed per version, spread evenly over the replay. */
const LATENCY_SAMPLES = 100;

type VersionForReplay = { id: string; onnxUri: string; features: string[]; outputSchema: ModelOutputSchema };

export function createRolloutGateActivities(deps: Pick<ActivityDeps, 'db' | 'artifacts'>) {
  const { db } = deps;

  async function ownedEndpoint(projectId: string, endpointId: string): Promise<void> {
    const [row] = await db.select({ id: endpoints.id }).from(endpoints).where(and(eq(endpoints.id, endpointId), eq(endpoints.projectId, projectId)));
    if (!row) throw new UserError('endpoint_not_found', `There is no endpoint ${endpointId} in this project.`, 404, { field: 'endpointId' });
  }

  async function ownedVersion(projectId: string, versionId: string, field: string): Promise<VersionForReplay> {
    const [row] = await db
      .select({ id: modelVersions.id, onnxUri: modelVersions.onnxUri, inputSchema: modelVersions.inputSchema, outputSchema: modelVersions.outputSchema })
      .from(modelVersions)
      .innerJoin(models, eq(models.id, modelVersions.modelId))
      .where(and(eq(modelVersions.id, versionId), eq(models.projectId, projectId)));
    if (!row) throw new UserError('model_version_not_found', `There is no model version ${versionId} in this project.`, 404, { field });
    return { id: row.id, onnxUri: row.onnxUri, features: row.inputSchema.features, outputSchema: row.outputSchema };
  }

  return {
    /**
     * Reads one bake window from the prediction log, the candidate's rows on its route against stable's on the
     * same endpoint and window, and holds them to the gates. Aggregates stay in SQL; only readings return.
     */
    async evaluateRolloutGates(input: EvaluateRolloutGatesInput): Promise<RolloutGatesResult> {
      const from = parseInstant(input.from, 'from');
      const to = parseInstant(input.to, 'to');
      if (from.getTime() >= to.getTime()) throw new UserError('invalid_window', `A gate window must end after it starts (from ${input.from}, to ${input.to}).`, 422, { field: 'to' });
      await ownedEndpoint(input.projectId, input.endpointId);
      await ownedVersion(input.projectId, input.candidateVersionId, 'candidateVersionId');
      // With no version to compare (or the candidate itself on the stable route), shift has nothing to read.
      const stableVersionId = input.stableVersionId === input.candidateVersionId ? null : input.stableVersionId;
      if (stableVersionId !== null) await ownedVersion(input.projectId, stableVersionId, 'stableVersionId');
      const stableFrom = input.stableFrom === undefined ? from : parseInstant(input.stableFrom, 'stableFrom');
      const stable = stableVersionId === null ? null : await readPredictionWindow(db, { endpointId: input.endpointId, versionId: stableVersionId, route: 'stable', from: stableFrom, to });
      const candidate = await readPredictionWindow(db, {
        endpointId: input.endpointId,
        versionId: input.candidateVersionId,
        route: input.route,
        from,
        to,
        // A regressor is binned on stable's deciles, so the two histograms share their edges.
        valueEdges: stable?.outputs?.kind === 'regression' ? stable.outputs.edges : undefined,
      });
      if (candidate.outputs && stable?.outputs && candidate.outputs.kind !== stable.outputs.kind) {
        // Retrying cannot help: the rollout replaces a model with one of another task, and gives up at once.
        throw new UserError('rollout_task_mismatch', `The candidate is a ${candidate.outputs.kind} model and the stable version a ${stable.outputs.kind} one; their outputs cannot be compared.`, 422, { field: 'candidateVersionId' });
      }
      const evaluation = evaluateGates(input.gates, { candidate, stable: stable && stable.total > 0 ? stable : null });
      const servingLoadFailure = input.expectedServing
        ? judgeServing(await liveServedRoutes(db, input.endpointId, new Date(Date.now() - SERVING_STALE_AFTER_MS)), input.expectedServing).loadFailure
        : undefined;
      return { ...evaluation, window: { candidate: candidate.total, stable: stable?.total ?? 0 }, ...(servingLoadFailure !== undefined && { servingLoadFailure }) };
    },

    /**
     * The digital twin: replays the newest answered stable requests of the endpoint offline on both versions and
     * reports agreement, output shift and one-row latency. Requests are read and scored in chunks (heartbeating);
     * only the report leaves the activity. A retry starts the replay over (it takes seconds, not hours).
     */
    async simulateRollout(input: SimulateRolloutInput): Promise<RolloutSimulationReport> {
      const requested = input.requests ?? DEFAULT_REPLAY_REQUESTS;
      if (!Number.isInteger(requested) || requested < 1 || requested > MAX_REPLAY_REQUESTS) {
        throw new UserError('invalid_replay_requests', `requests must be a whole number from 1 to ${MAX_REPLAY_REQUESTS} (got ${requested}).`, 422, { field: 'requests' });
      }
      await ownedEndpoint(input.projectId, input.endpointId);
      const stableVersion = await ownedVersion(input.projectId, input.stableVersionId, 'stableVersionId');
      const candidateVersion = await ownedVersion(input.projectId, input.candidateVersionId, 'candidateVersionId');
      const regression = stableVersion.outputSchema.name === 'value';
      if (regression !== (candidateVersion.outputSchema.name === 'value')) {
        throw new UserError(
          'rollout_task_mismatch',
          `The candidate is a ${regression ? 'classifier' : 'regressor'} and the stable version a ${regression ? 'regressor' : 'classifier'}; a rollout replaces a model with one of the same task.`,
          422,
          { field: 'candidateVersionId' },
        );
      }

      const beat = throttledHeartbeat(Context.current());
      beat({ stage: 'load', replayed: 0 }, true);
      const [stableSession, candidateSession] = await Promise.all([
        deps.artifacts.get(stableVersion.onnxUri).then(loadOnnxSession),
        deps.artifacts.get(candidateVersion.onnxUri).then(loadOnnxSession),
      ]);
      try {
        const stableClasses: ClassAnswer[] = [];
        const candidateClasses: (ClassAnswer | null)[] = [];
        const stableValues: number[] = [];
        const candidateValues: (number | null)[] = [];
        const stableTimes: number[] = [];
        const candidateTimes: number[] = [];
        const stride = Math.max(1, Math.ceil(requested / LATENCY_SAMPLES));
        let replayed = 0;
        let cursor: { createdAt: Date; id: string } | null = null;

        while (replayed < requested) {
          const limit = Math.min(REPLAY_CHUNK, requested - replayed);
          const page = await db
            .select({ id: predictions.id, inputs: predictions.inputs, createdAt: predictions.createdAt })
            .from(predictions)
            .where(
              and(
                eq(predictions.endpointId, input.endpointId),
                eq(predictions.modelVersionId, input.stableVersionId),
                eq(predictions.route, 'stable'),
                isNull(predictions.error),
                cursor ? or(lt(predictions.createdAt, cursor.createdAt), and(eq(predictions.createdAt, cursor.createdAt), lt(predictions.id, cursor.id))) : undefined,
              ),
            )
            .orderBy(desc(predictions.createdAt), desc(predictions.id))
            .limit(limit);
          const last = page.at(-1);
          if (!last) break;
          cursor = { createdAt: last.createdAt, id: last.id };

          // Requests stable answered have its features; one that somehow lacks them cannot be replayed at all.
          const records = page.map((p) => p.inputs).filter((r) => matrixRow(r, stableVersion.features) !== null);
          const stableAnswers = await score(stableSession, stableVersion, records);
          const candidateAnswers = await score(candidateSession, candidateVersion, records);
          for (let i = 0; i < records.length; i++) {
            const s = stableAnswers[i];
            const c = candidateAnswers[i] ?? null;
            if (s === null || s === undefined) continue;
            if (typeof s === 'number') {
              stableValues.push(s);
              candidateValues.push(typeof c === 'number' ? c : null);
            } else {
              stableClasses.push(s);
              candidateClasses.push(c !== null && typeof c !== 'number' ? c : null);
            }
            const index = replayed + i;
            if (index % stride === 0) {
              const record = records[i] as Record<string, unknown>;
              for (const [session, version, times] of [
                [stableSession, stableVersion, stableTimes],
                [candidateSession, candidateVersion, candidateTimes],
              ] as const) {
                const ms = await timeOneRow(session, version, record);
                if (ms !== null) times.push(ms);
              }
            }
          }
          replayed += records.length;
          beat({ stage: 'replay', replayed });
          if (page.length < limit) break;
        }

        const comparison = regression ? compareRegressions(stableValues, candidateValues) : compareClassifications(stableClasses, candidateClasses);
        const candidateLatencyMs = latencySummary(candidateTimes);
        const requests = regression ? stableValues.length : stableClasses.length;
        const verdict = judgeSimulation({ ...comparison, requests, candidateP99LatencyMs: candidateLatencyMs.p99 }, input.thresholds);
        return { requests, ...comparison, candidateLatencyMs, stableLatencyMs: latencySummary(stableTimes), ...verdict };
      } finally {
        await Promise.allSettled([stableSession.release(), candidateSession.release()]);
      }
    },
  };
}

function parseInstant(raw: string, field: string): Date {
  const date = new Date(raw);
  if (Number.isNaN(date.getTime())) throw new UserError('invalid_window', `${field} must be an ISO timestamp (got "${String(raw).slice(0, 40)}").`, 422, { field });
  return date;
}

/** A logged record as a row of the version's features, or null when one is missing or not a finite number. */
function matrixRow(record: Record<string, unknown>, features: readonly string[]): number[] | null {
  const row: number[] = [];
  for (const feature of features) {
    const value = record[feature];
    if (typeof value !== 'number' || !Number.isFinite(value)) return null;
    row.push(value);
  }
  return row;
}

type Answer = ClassAnswer | number | null;

/** Scores the records in one batch: the rows the version can read; null for a row it cannot read or answers non-finite. */
async function score(session: InferenceSession, version: VersionForReplay, records: readonly Record<string, unknown>[]): Promise<Answer[]> {
  const width = version.features.length;
  const rows = records.map((r) => matrixRow(r, version.features));
  const readable = rows.flatMap((row, i) => (row ? [i] : []));
  const answers: Answer[] = new Array<Answer>(records.length).fill(null);
  if (readable.length === 0) return answers;
  const x = new Float32Array(readable.length * width);
  readable.forEach((i, k) => x.set(rows[i] as number[], k * width));
  const outputs = await runOnnxModel(session, x, readable.length, width, version.outputSchema.name);
  const perRow = outputs.length / readable.length;
  const read = readPredictions(version.outputSchema, outputs, readable.length);
  readable.forEach((i, k) => {
    if (!outputs.subarray(k * perRow, (k + 1) * perRow).every(Number.isFinite)) return;
    const p = read[k];
    if (!p) return;
    if ('value' in p) answers[i] = p.value;
    else answers[i] = { label: String(p.label), probability: p.probability ?? Math.max(...Object.values(p.probabilities)) };
  });
  return answers;
}

/** Milliseconds of one one-row call (the session is warm: its batch ran first), or null when the version cannot read the record. */
async function timeOneRow(session: InferenceSession, version: VersionForReplay, record: Record<string, unknown>): Promise<number | null> {
  const row = matrixRow(record, version.features);
  if (!row) return null;
  const x = Float32Array.from(row);
  const started = performance.now();
  await runOnnxModel(session, x, 1, row.length, version.outputSchema.name);
  return performance.now() - started;
}

function latencySummary(times: number[]): LatencySummary {
  const sorted = [...times].sort((a, b) => a - b);
  return { p50: percentileCont(sorted, 0.5), p99: percentileCont(sorted, 0.99), samples: sorted.length };
}
