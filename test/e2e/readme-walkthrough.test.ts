import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpoints, predictions, trainingRuns } from '../../db/schema';
import { churnRows, toCsv } from '../support/synthetic-data';
import { recordHistory } from '../support/record-history';
import { startTestFactory, waitForWorkflow, type TestFactory, type WorkflowStatusBody } from '../support/test-factory';

/** The README's quick-start, step by step, through the real API, Temporal, database, TensorFlow.js and onnxruntime. */
describe('README walk-through: CSV → pipeline → live predictions', () => {
  let t: TestFactory;
  const rows = churnRows(1200);
  const training = rows.slice(0, 1000);
  const heldOut = rows.slice(1000);

  beforeAll(async () => {
    t = await startTestFactory();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('ingests a CSV, trains, evaluates, registers, deploys and serves predictions', async () => {
    // 1. Upload the dataset: answered as soon as the bytes are stored; the ingest workflow infers the schema.
    const csv = toCsv(training);
    const upload = await t.request('POST', '/v1/datasets/churn/versions', { body: csv, contentType: 'text/csv' });
    expect(upload.status).toBe(202);
    const accepted = (await upload.json()) as { workflowId: string; status: string };
    expect(upload.headers.get('location')).toBe(accepted.status);
    const ingested = await waitForWorkflow(t, accepted.workflowId);
    expect(ingested).toMatchObject({ status: 'COMPLETED', type: 'ingestDataset', result: { version: 1, created: true } });
    const versionRes = await t.request('GET', '/v1/datasets/churn/versions/1');
    const version = (await versionRes.json()) as { id: string; version: number; rowCount: number; schema: { name: string; type: string }[] };
    expect(version).toMatchObject({ version: 1, rowCount: 1000 });
    expect(version.schema).toEqual([
      { name: 'tenure', type: 'number', nullable: false },
      { name: 'spend', type: 'number', nullable: false },
      { name: 'noise', type: 'number', nullable: false },
      { name: 'churned', type: 'string', nullable: false },
    ]);

    // The same bytes again give the same version; ?wait=true answers with it for scripts.
    const again = await t.request('POST', '/v1/datasets/churn/versions?wait=true', { body: csv, contentType: 'text/csv' });
    expect(again.status).toBe(200);
    const againBody = (await again.json()) as { workflowId: string };
    expect(againBody).toMatchObject({ id: version.id, version: 1, created: false });

    // 2. Start the pipeline: returns at once with the workflow id.
    const start = await t.request('POST', '/v1/pipelines', {
      json: { dataset: 'churn', target: 'churned', features: ['tenure', 'spend'], model: { type: 'logistic', epochs: 25, learningRate: 0.1 }, endpoint: 'churn' },
    });
    expect(start.status).toBe(202);
    const { workflowId } = (await start.json()) as { workflowId: string };

    // 3. Watch it: the query reports the stage, and the epoch and loss while training.
    const seen: WorkflowStatusBody[] = [];
    const final = await waitForWorkflow(t, workflowId, (s) => seen.push(s));
    expect(final.status).toBe('COMPLETED');
    expect(final.progress?.stage).toBe('done');
    expect(final.progress?.training).toMatchObject({ epoch: 25, epochs: 25 });
    expect(seen.some((s) => s.progress?.stage === 'train')).toBe(true);
    const result = final.result as { evaluation: { accuracy: number; rocAuc: number; logLoss: number; parityMaxAbsDiff: number }; trainingRunId: string };
    expect(result.evaluation.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(result.evaluation.rocAuc).toBeGreaterThan(0.9);
    expect(result.evaluation.parityMaxAbsDiff).toBeLessThanOrEqual(1e-4);
    for (const [id, file] of [
      [workflowId, 'factory-pipeline.json'],
      ...['train', 'export', 'evaluate', 'register', 'deploy'].map((stage) => [`${workflowId}/${stage}`, `${stage}-model.json`]),
      [againBody.workflowId, 'ingest-dataset.json'],
    ] as const) {
      await recordHistory(id, file);
    }

    const [run] = await t.database.db.select().from(trainingRuns).where(eq(trainingRuns.id, result.trainingRunId));
    expect(run?.status).toBe('succeeded');
    expect(run?.taskQueue).toBe(t.taskQueues.cpu);
    expect(run?.epochMetrics.map((m) => m.epoch)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));

    // 4. Predict on rows the model never saw.
    const predict = await t.request('POST', '/v1/endpoints/churn/predict', {
      json: { records: heldOut.map(({ tenure, spend }) => ({ tenure, spend })) },
    });
    expect(predict.status).toBe(200);
    const served = (await predict.json()) as { modelVersion: { model: string; version: number }; predictions: { id: string; label: string; probability: number }[] };
    expect(served.modelVersion).toMatchObject({ model: 'churn', version: 1 });
    expect(served.predictions).toHaveLength(heldOut.length);
    const correct = served.predictions.filter((p, i) => p.label === heldOut[i]?.churned).length;
    expect(correct / heldOut.length).toBeGreaterThanOrEqual(0.9);
    expect(new Set(served.predictions.map((p) => p.id)).size).toBe(heldOut.length);

    // Every answered prediction is logged under its id.
    const [endpoint] = await t.database.db.select().from(endpoints).where(and(eq(endpoints.projectId, t.projectId), eq(endpoints.name, 'churn')));
    const logged = await t.database.db.select().from(predictions).where(eq(predictions.endpointId, endpoint?.id ?? ''));
    expect(logged.map((p) => p.id).sort()).toEqual(served.predictions.map((p) => p.id).sort());
  });

  it('trains an MLP on the factory-gpu queue when asked', async () => {
    const start = await t.request('POST', '/v1/pipelines', {
      json: { dataset: { name: 'churn', version: 1 }, target: 'churned', model: { type: 'mlp', hiddenUnits: [8], epochs: 15, learningRate: 0.05, accelerator: 'gpu' }, endpoint: 'churn-mlp' },
    });
    expect(start.status).toBe(202);
    const { workflowId, features } = (await start.json()) as { workflowId: string; features: string[] };
    expect(features).toEqual(['tenure', 'spend', 'noise']);
    const final = await waitForWorkflow(t, workflowId);
    expect(final.status).toBe('COMPLETED');
    const result = final.result as { trainingRunId: string; evaluation: { accuracy: number } };
    expect(result.evaluation.accuracy).toBeGreaterThanOrEqual(0.85);
    const [run] = await t.database.db.select().from(trainingRuns).where(eq(trainingRuns.id, result.trainingRunId));
    expect(run?.taskQueue).toBe(t.taskQueues.gpu);
    expect(run?.backend).toBeTruthy();

    const predict = await t.request('POST', '/v1/endpoints/churn-mlp/predict', { json: { records: [{ tenure: 2, spend: 180, noise: 0 }] } });
    expect(predict.status).toBe(200);
    expect(((await predict.json()) as { predictions: { label: string }[] }).predictions[0]?.label).toBe('yes');
  });

  it('answers bad predict records with the record and field named', async () => {
    const predict = (records: unknown) => t.request('POST', '/v1/endpoints/churn/predict', { json: { records } });
    const errorOf = async (res: Response) => ({ status: res.status, ...((await res.json()) as { error: Record<string, unknown> }).error });

    expect(await errorOf(await predict([{ tenure: 3, spend: 10 }, { tenure: 3 }]))).toMatchObject({ status: 422, code: 'missing_feature', field: 'records[1].spend' });
    expect(await errorOf(await predict([{ tenure: 'NaN', spend: 10 }]))).toMatchObject({ status: 422, code: 'invalid_feature_value', field: 'records[0].tenure' });
    // JSON has no Infinity, but 1e999 parses to it.
    const infinite = await t.request('POST', '/v1/endpoints/churn/predict', { body: '{"records":[{"tenure":1e999,"spend":1}]}', contentType: 'application/json' });
    expect(await errorOf(infinite)).toMatchObject({ status: 422, code: 'invalid_feature_value', field: 'records[0].tenure' });
    expect(await errorOf(await predict([]))).toMatchObject({ status: 422, code: 'invalid_request', field: 'records' });
    expect(await errorOf(await predict('rows'))).toMatchObject({ status: 422, code: 'invalid_request', field: 'records' });
  });
});
