import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapProject } from '../../db/queries/projects';
import { auditLog, feedbackLabels } from '../../db/schema';
import { churnRows, toCsv } from '../support/synthetic-data';
import { startTestFactory, waitForWorkflow, type TestFactory } from '../support/test-factory';

interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

/** Ground-truth labels through POST /v1/feedback: validated against the model's task, last write wins, every change audited. */
describe('feedback labels', () => {
  let t: TestFactory;
  let predictionIds: string[];

  beforeAll(async () => {
    t = await startTestFactory({ activityTimeouts: { heartbeatTimeoutMs: 3000 } });
    expect((await t.request('POST', '/v1/datasets/churn/versions?wait=true', { body: toCsv(churnRows(200)), contentType: 'text/csv' })).status).toBe(201);
    const start = await t.request('POST', '/v1/pipelines', {
      json: { dataset: 'churn', target: 'churned', features: ['tenure', 'spend'], model: { type: 'logistic', epochs: 5, seed: 1 }, endpoint: 'feedback-churn' },
    });
    const { workflowId } = (await start.json()) as { workflowId: string };
    expect((await waitForWorkflow(t, workflowId)).status).toBe('COMPLETED');
    const predicted = await t.request('POST', '/v1/endpoints/feedback-churn/predict', {
      json: { records: [{ tenure: 1, spend: 90 }, { tenure: 40, spend: 20 }, { tenure: 12, spend: 50 }] },
    });
    expect(predicted.status).toBe(200);
    predictionIds = ((await predicted.json()) as { predictions: { id: string }[] }).predictions.map((p) => p.id);
  });
  afterAll(async () => {
    await t?.stop();
  });

  const labelOf = async (predictionId: string) => (await t.database.db.select().from(feedbackLabels).where(eq(feedbackLabels.predictionId, predictionId)))[0]?.label;

  it('stores labels, reports unknown ids by id, and keeps the last of repeated labels with each change audited', async () => {
    const [a, b] = predictionIds as [string, string];
    const first = await t.request('POST', '/v1/feedback', { json: { feedback: [{ predictionId: a, label: 'yes' }, { predictionId: b, label: 'no' }, { predictionId: 'pred_nope', label: 'yes' }] } });
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ accepted: 2, created: 2, changed: 0, unchanged: 0, unknown: ['pred_nope'] });

    // A late correction replaces the label; sending the same label again changes nothing.
    const second = await t.request('POST', '/v1/feedback', { json: { feedback: [{ predictionId: a, label: 'no' }, { predictionId: b, label: 'no' }] } });
    expect(await second.json()).toMatchObject({ created: 0, changed: 1, unchanged: 1, unknown: [] });
    expect(await labelOf(a)).toBe('no');
    expect(await labelOf(b)).toBe('no');

    const audit = await t.database.db.select().from(auditLog).where(and(eq(auditLog.subjectType, 'prediction'), eq(auditLog.subjectId, a)));
    expect(audit.map((r) => [r.action, r.details])).toEqual([
      ['feedback.labelled', { label: 'yes', previous: null }],
      ['feedback.relabelled', { label: 'no', previous: 'yes' }],
    ]);
  });

  it('refuses a label the model cannot predict, naming the field, and writes nothing of that request', async () => {
    const [, , c] = predictionIds as [string, string, string];
    const res = await t.request('POST', '/v1/feedback', { json: { feedback: [{ predictionId: c, label: 'yes' }, { predictionId: c, label: 1 }] } });
    expect(res.status).toBe(422);
    const body = (await res.json()) as ErrorBody;
    expect(body.error).toMatchObject({ code: 'invalid_label', field: 'feedback[1].label' });
    expect(body.error.message).toContain('"no", "yes"');
    expect(await labelOf(c)).toBeUndefined();

    const empty = await t.request('POST', '/v1/feedback', { json: { feedback: [] } });
    expect(((await empty.json()) as ErrorBody).error).toMatchObject({ code: 'invalid_request', field: 'feedback' });
  });

  it('does not let another project label these predictions', async () => {
    const otherKey = `afk_test_other_${randomUUID()}`;
    await bootstrapProject(t.database.db, { projectName: `other-${randomUUID().slice(0, 8)}`, adminKey: otherKey });
    const res = await t.request('POST', '/v1/feedback', { key: otherKey, json: { feedback: [{ predictionId: predictionIds[2], label: 'yes' }] } });
    expect(await res.json()).toMatchObject({ accepted: 0, unknown: [predictionIds[2]] });
  });

  it('traces a labelled prediction to its model version, training run and dataset version', async () => {
    const viewer = await t.createKey('viewer');
    const res = await t.request('GET', `/v1/predictions/${predictionIds[0]}/lineage`, { key: viewer });
    expect(res.status).toBe(200);
    const lineage = (await res.json()) as Record<string, Record<string, unknown> & { feedback?: unknown }> & { datasetVersions: Record<string, unknown>[] };
    expect(lineage.prediction).toMatchObject({ id: predictionIds[0], endpoint: 'feedback-churn', route: 'stable', error: null, feedback: { label: 'no' } });
    expect(lineage.modelVersion).toMatchObject({ model: 'feedback-churn', version: 1 });
    expect(lineage.trainingRun).toMatchObject({ task: 'classification', target: 'churned', features: ['tenure', 'spend'], spec: { type: 'logistic', seed: 1 } });
    expect(lineage.datasetVersions).toHaveLength(1);
    expect(lineage.datasetVersions[0]).toMatchObject({ dataset: 'churn', version: 1, rows: 200, source: { kind: 'upload' } });
    expect(typeof lineage.workflows?.pipeline).toBe('string');

    const missing = await t.request('GET', '/v1/predictions/pred_nope/lineage', { key: viewer });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as ErrorBody).error.code).toBe('prediction_not_found');
  });

  it('needs the operator role', async () => {
    const viewer = await t.createKey('viewer');
    const res = await t.request('POST', '/v1/feedback', { key: viewer, json: { feedback: [{ predictionId: predictionIds[0], label: 'yes' }] } });
    expect(res.status).toBe(403);
  });
});
