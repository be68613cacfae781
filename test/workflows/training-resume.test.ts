import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainingRuns } from '../../db/schema';
import { killableWorkers } from '../support/killable-workers';
import { churnRows, toCsv } from '../support/synthetic-data';
import { startTestFactory, waitForWorkflow, type TestFactory } from '../support/test-factory';

/**
 * A training worker process is SIGKILLed mid-run; another picks the retry up and resumes from the last
 * checkpoint. The database is one other processes can reach: the suite's PostgreSQL, else PGlite served by
 * its own process, as `npm start` runs it.
 */
describe('training survives a worker crash', () => {
  let t: TestFactory;
  const workers = killableWorkers(() => t);

  beforeAll(async () => {
    // No training worker yet: the test controls when one runs and when it dies. A short heartbeat timeout
    // lets Temporal notice the dead worker within seconds (production: 30 s).
    t = await startTestFactory({ parts: { api: true, cpuWorker: true }, activityTimeouts: { heartbeatTimeoutMs: 3_000 }, database: 'own-process' });
  });
  afterAll(async () => {
    await workers.killAll();
    await t?.stop();
  });

  it('resumes from the checkpoint heartbeated before the crash', async () => {
    expect((await t.request('POST', '/v1/datasets/churn/versions?wait=true', { body: toCsv(churnRows(1000)), contentType: 'text/csv' })).status).toBe(201);
    const start = await t.request('POST', '/v1/pipelines', {
      json: { dataset: 'churn', target: 'churned', model: { type: 'mlp', hiddenUnits: [16], epochs: 40, batchSize: 8, accelerator: 'gpu' }, endpoint: 'resume' },
    });
    expect(start.status).toBe(202);
    const { workflowId } = (await start.json()) as { workflowId: string };

    const doomed = await workers.start();
    await waitForEpochs(t, workflowId, 3);
    doomed.child.kill('SIGKILL');
    await doomed.exited();
    // Read after the process is gone: nothing of the first attempt can land later.
    const epochsBeforeCrash = await waitForEpochs(t, workflowId, 3);
    expect(doomed.child.signalCode).toBe('SIGKILL');
    expect(epochsBeforeCrash).toBeLessThan(40);

    await workers.start();
    const final = await waitForWorkflow(t, workflowId);
    expect(final.status).toBe('COMPLETED');

    const [run] = await t.database.db.select().from(trainingRuns).where(eq(trainingRuns.workflowId, `${workflowId}/train`));
    const metrics = run?.epochMetrics ?? [];
    expect(metrics.map((m) => m.epoch)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    // Epoch 1 was trained once, by the first attempt: the retry resumed rather than starting over.
    expect(metrics[0]?.attempt).toBe(1);
    expect(metrics.at(-1)?.attempt).toBeGreaterThanOrEqual(2);
    const resumedAt = metrics.findIndex((m) => m.attempt > 1);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(epochsBeforeCrash + 1);
  });
});

async function waitForEpochs(t: TestFactory, pipelineId: string, atLeast: number): Promise<number> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const [run] = await t.database.db.select().from(trainingRuns).where(eq(trainingRuns.workflowId, `${pipelineId}/train`));
    const epochs = run?.epochMetrics.length ?? 0;
    if (epochs >= atLeast) return epochs;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`training of ${pipelineId} never reached epoch ${atLeast}`);
}
