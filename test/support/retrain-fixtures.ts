import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { inject } from 'vitest';
import { createIngestActivities } from '../../activities/ingest';
import { createRetrainDatasetActivities } from '../../activities/retrain-dataset';
import type { ActivityDeps } from '../../activities/deps';
import { ArtifactStore } from '../../artifacts/store';
import { openDatabase, type DatabaseHandle } from '../../db/client';
import { bootstrapProject } from '../../db/queries/projects';
import { feedbackLabels, predictions } from '../../db/schema';
import type { TrafficRoute } from '../../domain/rollout';
import { newId } from '../../platform/ids';
import type { CandidateHome } from './candidate-models';

/** A database, an artifact store and a project, with the ingest and retrain-dataset activities runnable outside a worker. */
export interface RetrainHome extends CandidateHome {
  database: DatabaseHandle;
  artifacts: ArtifactStore;
  /** Runs `fn` as an activity scheduled by workflow `workflowId`. */
  inActivity<R>(workflowId: string, fn: () => Promise<R>): Promise<R>;
  ingest: ReturnType<typeof createIngestActivities>;
  retrain: ReturnType<typeof createRetrainDatasetActivities>;
  close(): Promise<void>;
}

export async function openRetrainHome(name: string): Promise<RetrainHome> {
  const url = inject('databaseUrl');
  const database = await openDatabase(url ? { url } : { inMemory: true });
  if (!url) await database.migrate();
  const { projectId } = await bootstrapProject(database.db, { projectName: `${name}-${randomUUID().slice(0, 8)}` });
  const artifactRoot = await mkdtemp(path.join(os.tmpdir(), `ai-factory-${name}-`));
  const artifacts = new ArtifactStore(artifactRoot);
  const deps = { db: database.db, artifacts };
  return {
    projectId,
    database,
    artifacts,
    factory: { artifacts },
    inActivity: (workflowId, fn) =>
      // Failures the tests expect would otherwise be logged as warnings.
      new MockActivityEnvironment({ workflowExecution: { workflowId, runId: randomUUID() } }, { logger: new DefaultLogger('ERROR') }).run(fn),
    // Ingest needs only the database and the artifact store of its dependencies.
    ingest: createIngestActivities(deps as ActivityDeps),
    retrain: createRetrainDatasetActivities(deps),
    async close() {
      await database.close();
      await rm(artifactRoot, { recursive: true, force: true });
    },
  };
}

/** Uploads `csv` as the next version of dataset `name`, through the ingest activities; returns the version's id. */
export async function ingestCsv(home: RetrainHome, name: string, csv: string): Promise<string> {
  const upload = await home.artifacts.put(csv);
  const workflowId = `test-ingest-${randomUUID()}`;
  const profile = await home.inActivity(workflowId, () => home.ingest.profileUpload({ uploadUri: upload.uri }));
  const recorded = await home.inActivity(workflowId, () =>
    home.ingest.recordDatasetVersion({ projectId: home.projectId, datasetName: name, uploadUri: upload.uri, uploadSha256: upload.sha256, uploadBytes: csv.length, contentType: 'text/csv', profile }),
  );
  return recorded.datasetVersionId;
}

export interface LoggedPrediction {
  endpointId: string;
  versionId: string;
  inputs: Record<string, unknown>;
  at: Date;
  route?: TrafficRoute;
  error?: string;
  /** Ground truth attached later; none when absent. */
  label?: string | number;
}

/** Writes predictions (and their labels) as serving and POST /v1/feedback would have; returns their ids in order. */
export async function logPredictions(db: DatabaseHandle['db'], rows: LoggedPrediction[]): Promise<string[]> {
  const ids = rows.map(() => newId('pred'));
  await db.insert(predictions).values(
    rows.map((r, i) => ({
      id: ids[i] as string,
      endpointId: r.endpointId,
      modelVersionId: r.versionId,
      route: r.route ?? 'stable',
      inputs: r.inputs,
      outputs: r.error ? null : { label: 'yes' },
      error: r.error ?? null,
      latencyMs: 1,
      createdAt: r.at,
    })),
  );
  const labelled = rows.flatMap((r, i) => (r.label === undefined ? [] : [{ predictionId: ids[i] as string, label: r.label }]));
  if (labelled.length > 0) await db.insert(feedbackLabels).values(labelled);
  return ids;
}
