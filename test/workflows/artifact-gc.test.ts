import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetVersions, modelVersions, trainingRuns } from '../../db/schema';
import { collectArtifacts } from '../../workflows';
import { otherProjectAdminKey } from '../support/other-project';
import { churnRows, toCsv } from '../support/synthetic-data';
import { startTestFactory, waitForWorkflow, type TestFactory } from '../support/test-factory';

const sha256Of = (uri: string | null | undefined) => uri?.replace('artifact://sha256/', '') ?? '';

/** The artifact collector deletes what no live row references and keeps everything that does. */
describe('artifact collection', () => {
  let t: TestFactory;
  const scheduleId = `artifact-gc-test-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    // Training on factory-gpu only while the test runs a worker for it, so a cancelled run's activity is stopped for sure.
    t = await startTestFactory({ parts: { api: true, cpuWorker: true }, artifactGc: { scheduleId, intervalHours: 24, graceMs: 24 * 3_600_000 } });
  });
  afterAll(async () => {
    await t?.factory.client.schedule.getHandle(scheduleId).delete().catch(() => undefined);
    await t?.stop();
  });

  const stored = async () => {
    const names = new Set<string>();
    for await (const entry of t.factory.artifacts.list()) names.add(entry.sha256);
    return names;
  };
  const startPipeline = async (json: Record<string, unknown>): Promise<string> => {
    const res = await t.request('POST', '/v1/pipelines', { json: { dataset: 'churn', target: 'churned', features: ['tenure', 'spend'], ...json } });
    expect(res.status).toBe(202);
    return ((await res.json()) as { workflowId: string }).workflowId;
  };
  const runOf = async (pipelineId: string) => (await t.database.db.select().from(trainingRuns).where(eq(trainingRuns.workflowId, `${pipelineId}/train`)))[0];

  it('is scheduled daily with overlapping runs skipped, and creating the schedule again is harmless', async () => {
    await t.startWorkers({ cpuWorker: true });
    const schedule = await t.factory.client.schedule.getHandle(scheduleId).describe();
    expect(schedule.action).toMatchObject({ type: 'startWorkflow', workflowType: 'collectArtifacts', taskQueue: t.taskQueues.cpu, args: [{ graceMs: 24 * 3_600_000 }] });
    expect(schedule.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
    expect(schedule.spec.intervals).toEqual([{ every: 24 * 3_600_000 }]);
  });

  it('after a succeeded and a cancelled run, deletes checkpoints and orphans and keeps what rows reference', async () => {
    const upload = await t.request('POST', '/v1/datasets/churn/versions?wait=true', { body: toCsv(churnRows(600)), contentType: 'text/csv' });
    expect(upload.status).toBe(201);
    const datasetVersionId = ((await upload.json()) as { id: string }).id;
    const succeeded = await startPipeline({ model: { type: 'logistic', epochs: 5, learningRate: 0.1 }, endpoint: 'gc-kept' });
    expect((await waitForWorkflow(t, succeeded)).status).toBe('COMPLETED');

    const gpuWorker = await t.startWorkers({ gpuWorker: true }, { shutdownGraceTimeMs: 0 });
    const cancelled = await startPipeline({ model: { type: 'mlp', hiddenUnits: [16], epochs: 500, batchSize: 8, accelerator: 'gpu' }, endpoint: 'gc-cancelled' });
    await waitFor(async () => ((await runOf(cancelled))?.epochMetrics.length ?? 0) >= 2);
    await t.factory.client.workflow.getHandle(cancelled).cancel();
    expect((await waitForWorkflow(t, cancelled)).status).toBe('CANCELLED');
    // The cancellation reaches a running activity only with its next heartbeat; stopping the worker ends it now.
    await gpuWorker.stop();

    const orphan = await t.factory.artifacts.put(`nobody refers to this ${randomUUID()}`);
    await mkdir(path.join(t.factory.artifacts.root, 'tmp'), { recursive: true });
    await writeFile(path.join(t.factory.artifacts.root, 'tmp', 'interrupted-write'), 'partial');

    const goodRun = await runOf(succeeded);
    const cancelledRun = await runOf(cancelled);
    const [version] = await t.database.db.select().from(modelVersions).where(eq(modelVersions.trainingRunId, goodRun?.id ?? ''));
    const [dataset] = await t.database.db.select().from(datasetVersions).where(eq(datasetVersions.id, datasetVersionId));
    expect(cancelledRun?.status).toBe('cancelled');
    const keep = [sha256Of(goodRun?.modelUri), sha256Of(version?.onnxUri), sha256Of(dataset?.artifactUri), dataset?.source.kind === 'upload' ? dataset.source.uploadSha256 : ''];
    const gone = [sha256Of(goodRun?.checkpointUri), sha256Of(cancelledRun?.checkpointUri), orphan.sha256];
    const before = await stored();
    for (const sha256 of [...keep, ...gone]) expect(before.has(sha256)).toBe(true);

    // Grace 0: nothing else is in flight in this factory now.
    const result = await t.factory.client.workflow.execute(collectArtifacts, { workflowId: `gc-${randomUUID()}`, taskQueue: t.taskQueues.cpu, args: [{ graceMs: 0 }] });
    expect(result).toMatchObject({ scanned: before.size, tempFilesDeleted: 1 });
    expect(result.deleted).toBeGreaterThanOrEqual(gone.length);
    expect(result.bytesFreed).toBeGreaterThan(0);

    const after = await stored();
    for (const sha256 of keep) expect(after.has(sha256)).toBe(true);
    for (const sha256 of gone) expect(after.has(sha256)).toBe(false);

    // What is left still serves and still trains.
    const predict = await t.request('POST', '/v1/endpoints/gc-kept/predict', { json: { records: [{ tenure: 2, spend: 180 }] } });
    expect(predict.status).toBe(200);
    const retrain = await startPipeline({ model: { type: 'logistic', epochs: 3, learningRate: 0.1 }, endpoint: 'gc-kept' });
    expect((await waitForWorkflow(t, retrain)).status).toBe('COMPLETED');
  });

  it("runs now through the API for the installation's admins only, with the configured grace period; a retried Idempotency-Key gets the first answer", async () => {
    const operator = await t.createKey('operator');
    expect((await t.request('POST', '/v1/maintenance/artifact-gc', { key: operator })).status).toBe(403);
    // Another project's admin may not delete every project's files.
    const tenant = await t.request('POST', '/v1/maintenance/artifact-gc', { key: await otherProjectAdminKey(t) });
    expect([tenant.status, ((await tenant.json()) as { error: { code: string } }).error.code]).toEqual([403, 'installation_operator_only']);
    const before = await stored();
    const idempotencyKey = randomUUID();
    const gc = () => t.factory.app.request('/v1/maintenance/artifact-gc', { method: 'POST', headers: { authorization: `Bearer ${t.adminKey}`, 'idempotency-key': idempotencyKey } });
    const res = await gc();
    expect(res.status).toBe(202);
    const { workflowId } = (await res.json()) as { workflowId: string };
    const retried = await gc();
    expect([retried.status, retried.headers.get('idempotent-replayed')]).toEqual([202, 'true']);
    expect(((await retried.json()) as { workflowId: string }).workflowId).toBe(workflowId);
    const final = await waitForWorkflow(t, workflowId);
    expect(final.status).toBe('COMPLETED');
    // Everything left is younger than 24 hours: nothing goes.
    expect(final.result).toMatchObject({ deleted: 0, scanned: before.size });
    expect(await stored()).toEqual(before);
  });
});

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition never held');
    await new Promise((r) => setTimeout(r, 50));
  }
}
