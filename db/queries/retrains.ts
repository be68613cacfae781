import { and, asc, desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { driftReports, endpointEvents, endpoints, models, modelVersions, retrainRuns, trainingRuns } from '../schema';
import { attemptWorkflowId, DEFAULT_RETRAIN_RETRY, nextAttemptAt, type EpisodeReport, type RetrainRetry } from '../../domain/retrain-episode';
import type { RetrainOutcome, RetrainTrigger } from '../../domain/retrain';
import { newId } from '../../platform/ids';

export type RetrainRun = typeof retrainRuns.$inferSelect;

export interface RetrainClaimRequest {
  projectId: string;
  endpointId: string;
  modelId: string;
  episode: string;
  /** The retrainEndpoint run that will own the claim (of the first attempt: later ones derive theirs from it). */
  workflowId: string;
  trigger: RetrainTrigger;
  /** Drift alarms: a failed attempt may be followed by another after its backoff. Absent: one attempt. */
  retry?: RetrainRetry;
}

export type RetrainClaim =
  /** This request holds the episode's claim (now, or since an earlier attempt of the same request). */
  | { kind: 'claimed'; run: RetrainRun }
  /** The episode was claimed before by another request: its latest attempt, running or finished (a failed one is waiting or out of attempts). */
  | { kind: 'existing'; run: RetrainRun }
  /** Another retrain of the model was running: recorded as skipped, naming it. */
  | { kind: 'skipped'; run: RetrainRun; running: RetrainRun };

/** The same request again (a retried activity): the same workflow, and for drift the same monitor run and report. */
function sameRequest(run: RetrainRun, request: RetrainClaimRequest): boolean {
  if (run.workflowId !== attemptWorkflowId(request.workflowId, run.attempt)) return false;
  const [a, b] = [run.trigger, request.trigger];
  if (a.kind === 'drift' && b.kind === 'drift') return a.monitorWorkflowId === b.monitorWorkflowId && a.reportIds.join() === b.reportIds.join();
  return a.kind === b.kind;
}

/** Postgres' unique_violation, also when drizzle wraps the driver's error. */
function isUniqueViolation(err: unknown): boolean {
  for (let e: unknown = err; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === '23505') return true;
  }
  return false;
}

/** The episode's latest attempt. */
async function runOfEpisode(db: Db, modelId: string, episode: string): Promise<RetrainRun | undefined> {
  const [row] = await db
    .select()
    .from(retrainRuns)
    .where(and(eq(retrainRuns.modelId, modelId), eq(retrainRuns.episode, episode)))
    .orderBy(desc(retrainRuns.attempt))
    .limit(1);
  return row;
}

/** A failed attempt whose backoff has passed and that leaves attempts (claims from before attempts have no retryAt). */
function mayRetry(run: RetrainRun, now: Date): boolean {
  return run.status === 'failed' && run.attempt < run.maxAttempts && (run.retryAt === null || run.retryAt.getTime() <= now.getTime());
}

export async function runningRetrainOf(db: Db, modelId: string): Promise<RetrainRun | undefined> {
  const [row] = await db.select().from(retrainRuns).where(and(eq(retrainRuns.modelId, modelId), eq(retrainRuns.status, 'running')));
  return row;
}

export async function findRetrainRun(db: Db, workflowId: string): Promise<RetrainRun | undefined> {
  const [row] = await db.select().from(retrainRuns).where(eq(retrainRuns.workflowId, workflowId));
  return row;
}

/**
 * Claims the episode's next attempt with one INSERT … ON CONFLICT DO NOTHING: the unique (model, episode, attempt)
 * and the partial unique index on running claims of a model decide, so concurrent alarms get one winner per
 * attempt. Idempotent: the same request again (a retried activity) finds its own claim. An attempt skipped
 * earlier is claimed when nothing runs any more; a failed one is followed (drift alarms only) once its backoff passed.
 */
export async function claimRetrain(db: Db, request: RetrainClaimRequest): Promise<RetrainClaim> {
  const { retry, ...claim } = request;
  const policy = { maxAttempts: retry?.maxAttempts ?? 1, backoffSeconds: retry?.backoffSeconds ?? DEFAULT_RETRAIN_RETRY.backoffSeconds };
  // A running claim can finish between the statements below; a few rounds settle it.
  for (let round = 0; round < 5; round++) {
    const latest = await runOfEpisode(db, request.modelId, request.episode);
    if (latest && (latest.status === 'running' || latest.status === 'succeeded' || (latest.status === 'failed' && !(retry && mayRetry(latest, new Date()))))) {
      return { kind: sameRequest(latest, request) ? 'claimed' : 'existing', run: latest };
    }
    if (latest?.status === 'skipped') {
      try {
        const [revived] = await db
          .update(retrainRuns)
          .set({ status: 'running', trigger: request.trigger, outcome: null, startedAt: new Date(), finishedAt: null })
          .where(and(eq(retrainRuns.id, latest.id), eq(retrainRuns.status, 'skipped')))
          .returning();
        if (revived) return { kind: 'claimed', run: revived };
        continue;
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
      }
    }
    const attempt = latest === undefined ? 1 : latest.status === 'skipped' ? latest.attempt : latest.attempt + 1;
    const values = { ...claim, ...policy, attempt, workflowId: attemptWorkflowId(request.workflowId, attempt) };
    if (latest?.status !== 'skipped') {
      const [inserted] = await db
        .insert(retrainRuns)
        .values({ id: newId('retrain'), ...values, status: 'running' })
        .onConflictDoNothing()
        .returning();
      if (inserted) return { kind: 'claimed', run: inserted };
      const now = await runOfEpisode(db, request.modelId, request.episode);
      if (now && now.attempt >= attempt) continue;
    }
    const running = await runningRetrainOf(db, request.modelId);
    if (!running) continue;
    if (running.workflowId === values.workflowId) return { kind: 'claimed', run: running };
    const outcome: RetrainOutcome = { skippedFor: running.workflowId };
    await db
      .insert(retrainRuns)
      .values({ id: newId('retrain'), ...values, status: 'skipped', outcome, finishedAt: new Date() })
      .onConflictDoNothing();
    const skipped = await runOfEpisode(db, request.modelId, request.episode);
    if (skipped?.status === 'skipped') return { kind: 'skipped', run: skipped, running };
  }
  throw new Error(`could not settle the retrain claim of model ${request.modelId} for episode ${request.episode}`);
}

/** Notes what the running retrain has built so far (its dataset version, its pipeline). */
export async function recordRetrainProgress(db: Db, workflowId: string, progress: { datasetVersionId?: string; pipelineWorkflowId?: string }): Promise<void> {
  await db
    .update(retrainRuns)
    .set(progress)
    .where(and(eq(retrainRuns.workflowId, workflowId), eq(retrainRuns.status, 'running')));
}

/** Ends a running claim once: a retried call (or a second path ending it) changes nothing. A failure with attempts left says when the next may start. */
export async function finishRetrain(
  db: Db,
  workflowId: string,
  end: { status: 'succeeded' | 'failed'; outcome: RetrainOutcome; modelVersionId?: string | null },
): Promise<RetrainRun | undefined> {
  const finishedAt = new Date();
  const run = await findRetrainRun(db, workflowId);
  const retryAt = run && end.status === 'failed' ? nextAttemptAt(finishedAt, run.attempt, run) : null;
  await db
    .update(retrainRuns)
    .set({ status: end.status, outcome: end.outcome, finishedAt, retryAt, ...(end.modelVersionId && { modelVersionId: end.modelVersionId }) })
    .where(and(eq(retrainRuns.workflowId, workflowId), eq(retrainRuns.status, 'running')));
  return findRetrainRun(db, workflowId);
}

/** The endpoint's retrain claims, newest first. */
export async function listRetrains(db: Db, endpointId: string, limit = 50): Promise<RetrainRun[]> {
  return db.select().from(retrainRuns).where(eq(retrainRuns.endpointId, endpointId)).orderBy(desc(retrainRuns.startedAt), desc(retrainRuns.id)).limit(limit);
}

/** The drift reports of a version on an endpoint, as the episode derivation reads them. */
export async function episodeReportsOf(db: Db, endpointId: string, modelVersionId: string): Promise<EpisodeReport[]> {
  const rows = await db
    .select({
      id: driftReports.id,
      modelVersionId: driftReports.modelVersionId,
      drifted: driftReports.drifted,
      enoughRows: sql<boolean | null>`(${driftReports.report}->>'enoughRows')::boolean`,
      windowTo: driftReports.windowTo,
      createdAt: driftReports.createdAt,
    })
    .from(driftReports)
    .where(and(eq(driftReports.endpointId, endpointId), eq(driftReports.modelVersionId, modelVersionId)))
    .orderBy(asc(driftReports.windowTo));
  return rows.map((r) => ({ ...r, enoughRows: r.enoughRows !== false, windowTo: r.windowTo.toISOString(), createdAt: r.createdAt.toISOString() }));
}

export interface RetrainBaseRows {
  endpointId: string;
  version: { id: string; modelId: string; modelName: string; version: number; createdAt: Date; blessing: (typeof modelVersions.$inferSelect)['blessing'] };
  run: typeof trainingRuns.$inferSelect;
  /** When the version first took traffic on the endpoint (its first traffic event), else when it was registered. */
  deployedAt: Date;
}

/** The endpoint's stable version with its model and training run; null when nothing serves stable traffic. */
export async function readRetrainBaseRows(db: Db, endpointId: string): Promise<RetrainBaseRows | null> {
  const [row] = await db
    .select({ version: modelVersions, modelName: models.name, run: trainingRuns })
    .from(endpoints)
    .innerJoin(modelVersions, eq(modelVersions.id, endpoints.stableVersionId))
    .innerJoin(models, eq(models.id, modelVersions.modelId))
    .innerJoin(trainingRuns, eq(trainingRuns.id, modelVersions.trainingRunId))
    .where(eq(endpoints.id, endpointId));
  if (!row) return null;
  const [first] = await db
    .select({ at: sql<Date | string | null>`min(${endpointEvents.createdAt})` })
    .from(endpointEvents)
    .where(and(eq(endpointEvents.endpointId, endpointId), eq(endpointEvents.toVersionId, row.version.id)));
  const v = row.version;
  return {
    endpointId,
    version: { id: v.id, modelId: v.modelId, modelName: row.modelName, version: v.version, createdAt: v.createdAt, blessing: v.blessing },
    run: row.run,
    deployedAt: first?.at ? new Date(first.at) : v.createdAt,
  };
}

/** The model a version belongs to. */
export async function modelOfVersion(db: Db, modelVersionId: string): Promise<{ modelId: string; modelName: string } | undefined> {
  const [row] = await db
    .select({ modelId: models.id, modelName: models.name })
    .from(modelVersions)
    .innerJoin(models, eq(models.id, modelVersions.modelId))
    .where(eq(modelVersions.id, modelVersionId));
  return row;
}
