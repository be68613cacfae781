import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpoints, modelVersions, trainingRuns } from '../../db/schema';
import { churnRows, toCsv } from '../support/synthetic-data';
import { recordHistory } from '../support/record-history';
import { goodOnnx } from '../support/onnx-graphs';
import { registerOnnxVersion } from '../support/register-version';
import { startTestFactory, waitForWorkflow, type TestFactory } from '../support/test-factory';

/** A failed or cancelled pipeline leaves its real root cause on the run, model version and endpoint rows. */
describe('pipeline failures record their root cause', () => {
  let t: TestFactory;

  beforeAll(async () => {
    // No training worker on factory-gpu: a gpu pipeline waits in training until the test starts one.
    t = await startTestFactory({ parts: { api: true, cpuWorker: true } });
    expect((await t.request('POST', '/v1/datasets/churn/versions?wait=true', { body: toCsv(churnRows(400)), contentType: 'text/csv' })).status).toBe(201);
  });
  afterAll(async () => {
    await t?.stop();
  });

  const startPipeline = async (json: Record<string, unknown>): Promise<string> => {
    const res = await t.request('POST', '/v1/pipelines', { json: { target: 'churned', features: ['tenure', 'spend'], ...json } });
    expect(res.status).toBe(202);
    return ((await res.json()) as { workflowId: string }).workflowId;
  };
  const runOf = async (pipelineId: string) => (await t.database.db.select().from(trainingRuns).where(eq(trainingRuns.workflowId, `${pipelineId}/train`)))[0];

  it('records the typed user error under "Activity task failed" on the training run', async () => {
    expect((await t.request('POST', '/v1/datasets/tiny/versions?wait=true', { body: toCsv(churnRows(8)), contentType: 'text/csv' })).status).toBe(201);
    const workflowId = await startPipeline({ dataset: 'tiny', model: { type: 'logistic', epochs: 2 }, endpoint: 'tiny' });
    expect((await waitForWorkflow(t, workflowId)).status).toBe('FAILED');
    await recordHistory(`${workflowId}/train`, 'train-model-failed.json');

    const run = await runOf(workflowId);
    expect(run).toMatchObject({ status: 'failed', failureCause: { stage: 'train', type: 'InvalidInput', code: 'too_few_rows' } });
    expect(run?.failure).toMatch(/^train: InvalidInput \(too_few_rows\): Only 8 rows/);
    expect(run?.finishedAt).toBeInstanceOf(Date);
  });

  it('records a cancellation while training, though the workflow itself was cancelled', async () => {
    const workflowId = await startPipeline({ dataset: 'churn', model: { type: 'logistic', epochs: 2, accelerator: 'gpu' }, endpoint: 'cancelled' });
    await waitFor(async () => (await runOf(workflowId))?.status === 'running');
    await t.factory.client.workflow.getHandle(workflowId).cancel();
    expect((await waitForWorkflow(t, workflowId)).status).toBe('CANCELLED');
    await recordHistory(workflowId, 'factory-pipeline-cancelled.json');
    await recordHistory(`${workflowId}/train`, 'train-model-cancelled.json');

    const run = await runOf(workflowId);
    expect(run).toMatchObject({ status: 'cancelled', failureCause: { stage: 'train', type: 'cancelled', code: null } });
    expect(run?.failure).toMatch(/cancel/i);
    expect(run?.finishedAt).toBeInstanceOf(Date);
  });

  it('marks the registered version and the endpoint when deploy fails, and the endpoint keeps serving its stable version', async () => {
    const first = await startPipeline({ dataset: 'churn', model: { type: 'logistic', epochs: 10, learningRate: 0.1 }, endpoint: 'deploy-fails' });
    expect((await waitForWorkflow(t, first)).status).toBe('COMPLETED');
    const [before] = await t.database.db.select().from(endpoints).where(and(eq(endpoints.projectId, t.projectId), eq(endpoints.name, 'deploy-fails')));

    // The second pipeline waits in training (gpu, no worker) while a canary rollout runs on the endpoint: its
    // controller then refuses the pipeline's deploy (two rollouts never interleave), a real deploy failure.
    const second = await startPipeline({ dataset: 'churn', model: { type: 'logistic', epochs: 10, learningRate: 0.1, accelerator: 'gpu' }, endpoint: 'deploy-fails' });
    const candidate = await registerOnnxVersion(t, 'deploy-fails-candidate', goodOnnx());
    const canary = await t.request('POST', '/v1/endpoints/deploy-fails/rollouts', {
      json: { model: 'deploy-fails-candidate', version: candidate.version, strategy: 'canary', steps: [{ weight: 1, bakeSeconds: 600 }, { weight: 100, bakeSeconds: 0 }], gates: { errorRate: 0.1 } },
    });
    expect(canary.status).toBe(202);
    await t.startWorkers({ gpuWorker: true });
    const final = await waitForWorkflow(t, second);
    expect(final.status).toBe('FAILED');
    expect(final.progress?.stage).toBe('failed');
    await recordHistory(second, 'factory-pipeline-deploy-failed.json');
    expect((await t.request('POST', '/v1/endpoints/deploy-fails/rollouts/current/abort')).status).toBe(200);

    const run = await runOf(second);
    expect(run).toMatchObject({ status: 'failed', failureCause: { stage: 'deploy', type: 'rollout_in_progress' } });
    const [version] = await t.database.db.select().from(modelVersions).where(eq(modelVersions.trainingRunId, run?.id ?? ''));
    expect(version).toMatchObject({ version: 2, failureCause: { stage: 'deploy', type: 'rollout_in_progress' } });
    expect(version?.failure).toMatch(/^deploy: rollout_in_progress: Rollout ro-[\w-]+ of deploy-fails-candidate v1 is running/);
    expect(version?.failedAt).toBeInstanceOf(Date);

    const [after] = await t.database.db.select().from(endpoints).where(and(eq(endpoints.projectId, t.projectId), eq(endpoints.name, 'deploy-fails')));
    expect(after).toMatchObject({ status: 'failed', stableVersionId: before?.stableVersionId, failureCause: { stage: 'deploy' } });
    const shown = (await (await t.request('GET', '/v1/endpoints/deploy-fails')).json()) as { status: string; failure: { stage: string; type: string } | null };
    expect(shown).toMatchObject({ status: 'failed', failure: { stage: 'deploy', type: 'rollout_in_progress' } });
    const predict = await t.request('POST', '/v1/endpoints/deploy-fails/predict', { json: { records: [{ tenure: 2, spend: 180 }] } });
    expect(predict.status).toBe(200);
    expect(((await predict.json()) as { modelVersion: { version: number } }).modelVersion.version).toBe(1);

    // The first pipeline's run succeeded and keeps no failure; the next good deploy clears the endpoint's.
    expect(await runOf(first)).toMatchObject({ status: 'succeeded', failure: null });
    const third = await startPipeline({ dataset: 'churn', model: { type: 'logistic', epochs: 5, learningRate: 0.1 }, endpoint: 'deploy-fails' });
    expect((await waitForWorkflow(t, third)).status).toBe('COMPLETED');
    expect(await (await t.request('GET', '/v1/endpoints/deploy-fails')).json()).toMatchObject({ status: 'live', failure: null });
  });
});

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition never held');
    await new Promise((r) => setTimeout(r, 50));
  }
}
