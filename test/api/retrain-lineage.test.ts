import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRetrainDatasetActivities } from '../../activities/retrain-dataset';
import { trainingRuns } from '../../db/schema';
import type { BuildRetrainDatasetResult } from '../../domain/retrain';
import { churnRows, toCsv } from '../support/synthetic-data';
import { startTestFactory, waitForWorkflow, type TestFactory } from '../support/test-factory';

interface LineageBody {
  modelVersion: { model: string; version: number };
  trainingRun: { id: string };
  datasetVersions: { dataset: string; version: number; rows: number; source: { kind: string } }[];
  sources: { uploads: { version: number; rows: number }[]; feedback: { version: number; endpoint: string; rows: number; modelVersions: { model: string; version: number }[] }[]; truncated: boolean };
}

/**
 * The loop by hand: train and serve, label production answers, build the retrain dataset version, and a real
 * pipeline trains on it; a prediction of the new model then traces back through the feedback to the upload.
 */
describe('training on a retrain-built dataset version', () => {
  let t: TestFactory;
  let built: BuildRetrainDatasetResult;
  const predict = async (records: Record<string, number>[]) => {
    const res = await t.request('POST', '/v1/endpoints/loop-churn/predict', { json: { records } });
    expect(res.status).toBe(200);
    return ((await res.json()) as { predictions: { id: string }[] }).predictions.map((p) => p.id);
  };
  const pipeline = async (version: number) => {
    const start = await t.request('POST', '/v1/pipelines', {
      json: { dataset: { name: 'churn', version }, target: 'churned', features: ['tenure', 'spend'], model: { type: 'logistic', epochs: 5, seed: 1 }, endpoint: 'loop-churn' },
    });
    expect(start.status).toBe(202);
    const { workflowId } = (await start.json()) as { workflowId: string };
    expect((await waitForWorkflow(t, workflowId)).status).toBe('COMPLETED');
  };

  beforeAll(async () => {
    t = await startTestFactory({ activityTimeouts: { heartbeatTimeoutMs: 3000 } });
    expect((await t.request('POST', '/v1/datasets/churn/versions?wait=true', { body: toCsv(churnRows(200)), contentType: 'text/csv' })).status).toBe(201);
    const from = new Date(Date.now() - 1000).toISOString();
    await pipeline(1);

    const records = churnRows(30, 'production').map(({ tenure, spend }) => ({ tenure, spend }));
    const ids = await predict(records);
    const truth = churnRows(30, 'production').map((r) => r.churned);
    const labelled = await t.request('POST', '/v1/feedback', { json: { feedback: ids.map((predictionId, i) => ({ predictionId, label: truth[i] })) } });
    expect(labelled.status).toBe(200);

    const { stableVersionId: baseModelVersionId } = (await (await t.request('GET', '/v1/endpoints/loop-churn')).json()) as { stableVersionId: string };
    const workflowId = `retrain-${randomUUID()}`;
    const activities = createRetrainDatasetActivities({ db: t.database.db, artifacts: t.factory.artifacts });
    built = await new MockActivityEnvironment({ workflowExecution: { workflowId, runId: randomUUID() } }).run(() =>
      activities.buildRetrainDataset({ projectId: t.projectId, endpointName: 'loop-churn', baseModelVersionId, window: { from, to: new Date(Date.now() + 60_000).toISOString() }, workflowId }),
    );
    await pipeline(built.version);
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('trains version 2 on base + labelled rows, and its answers trace back to the feedback and the upload', async () => {
    expect(built).toMatchObject({ dataset: 'churn', version: 2, rows: 230, baseRows: 200, feedbackRows: 30, created: true });
    const [run] = await t.database.db.select().from(trainingRuns).where(eq(trainingRuns.datasetVersionId, built.datasetVersionId));
    expect(run?.status).toBe('succeeded');

    const [predictionId] = await predict([{ tenure: 5, spend: 80 }]);
    const res = await t.request('GET', `/v1/predictions/${predictionId}/lineage`, { key: await t.createKey('viewer') });
    expect(res.status).toBe(200);
    const lineage = (await res.json()) as LineageBody;
    expect(lineage.modelVersion).toMatchObject({ model: 'loop-churn', version: 2 });
    expect(lineage.trainingRun.id).toBe(run?.id);
    expect(lineage.datasetVersions.map((d) => [d.dataset, d.version, d.rows, d.source.kind])).toEqual([
      ['churn', 2, 230, 'retrain'],
      ['churn', 1, 200, 'upload'],
    ]);
    expect(lineage.sources.uploads).toMatchObject([{ version: 1, rows: 200 }]);
    expect(lineage.sources.feedback).toMatchObject([{ version: 2, endpoint: 'loop-churn', rows: 30, modelVersions: [{ model: 'loop-churn', version: 1 }] }]);
    expect(lineage.sources.truncated).toBe(false);
  });
});
