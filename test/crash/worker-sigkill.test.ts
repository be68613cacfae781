import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelVersions, trainingRuns, type EpochMetrics } from '../../db/schema';
import { killableWorkers } from '../support/killable-workers';
import { churnRows, toCsv } from '../support/synthetic-data';
import { startTestFactory, waitForWorkflow, type TestFactory } from '../support/test-factory';

/** Short, so a SIGKILLed attempt is retried within seconds; production uses 30 s. */
const HEARTBEAT_TIMEOUT_MS = 3_000;
const EPOCHS = 40;

/**
 * A training worker process is SIGKILLed mid-run (no graceful shutdown, no last heartbeat); another takes over.
 * Runs on the suite's PostgreSQL, else on PGlite served by its own process (what `npm start` runs).
 */
describe('training survives a SIGKILLed worker process', () => {
  let t: TestFactory;
  const workers = killableWorkers(() => t);

  beforeAll(async () => {
    // The API and factory-cpu run here; factory-gpu only in child processes the test kills.
    t = await startTestFactory({ parts: { api: true, cpuWorker: true }, activityTimeouts: { heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS }, database: 'own-process' });
  });
  afterAll(async () => {
    await workers.killAll();
    await t?.stop();
  });

  const startWorkerProcess = () => workers.start();

  it('repeats at most the epoch in progress and registers exactly one model version', async () => {
    expect((await t.request('POST', '/v1/datasets/churn/versions?wait=true', { body: toCsv(churnRows(1500)), contentType: 'text/csv' })).status).toBe(201);
    const start = await t.request('POST', '/v1/pipelines', {
      json: { dataset: 'churn', target: 'churned', model: { type: 'mlp', hiddenUnits: [16], epochs: EPOCHS, batchSize: 8, accelerator: 'gpu' }, endpoint: 'sigkill' },
    });
    expect(start.status).toBe(202);
    const { workflowId } = (await start.json()) as { workflowId: string };
    const trainWorkflowId = `${workflowId}/train`;

    const doomed = await startWorkerProcess();
    await waitForMetrics(t, trainWorkflowId, (m) => m.length >= 2);
    doomed.child.kill('SIGKILL');
    const killedAt = Date.now();
    await doomed.exited();
    // Nothing of attempt 1 can be written after this point: what it finished is now fixed.
    const beforeKill = await epochMetrics(t, trainWorkflowId);
    const finishedByFirst = beforeKill.filter((m) => m.attempt === 1).map((m) => m.epoch);
    expect(finishedByFirst.length).toBeGreaterThanOrEqual(2);
    expect(finishedByFirst.length).toBeLessThan(EPOCHS);

    await startWorkerProcess();
    const resumed = await waitForMetrics(t, trainWorkflowId, (m) => m.some((e) => e.attempt > 1));
    const resumeWallMs = Date.now() - killedAt;
    const final = await waitForWorkflow(t, workflowId);
    expect(final.status).toBe('COMPLETED');

    const metrics = await epochMetrics(t, trainWorkflowId);
    expect(metrics.map((m) => m.epoch)).toEqual(Array.from({ length: EPOCHS }, (_, i) => i + 1));
    const repeated = finishedByFirst.filter((epoch) => (metrics[epoch - 1]?.attempt ?? 1) > 1);
    const firstResumedEpoch = resumed.find((m) => m.attempt > 1)?.epoch;
    // The retry starts right after the last epoch attempt 1 finished: only the one in progress is trained again.
    expect(repeated).toEqual([]);
    expect(firstResumedEpoch).toBe(Math.max(...finishedByFirst) + 1);

    const [run] = await t.database.db.select().from(trainingRuns).where(eq(trainingRuns.workflowId, trainWorkflowId));
    const versions = await t.database.db.select().from(modelVersions).where(and(eq(modelVersions.trainingRunId, run?.id ?? '')));
    expect(versions).toHaveLength(1);
    console.log(
      `[crash] worker SIGKILL (${t.database.kind}): attempt 1 finished epochs 1..${Math.max(...finishedByFirst)} of ${EPOCHS}; completed epochs repeated: ${repeated.length}; ` +
        `epoch in progress re-run: 1; SIGKILL → first epoch finished by the retry: ${resumeWallMs} ms (heartbeat timeout ${HEARTBEAT_TIMEOUT_MS} ms)`,
    );
  });
});

async function epochMetrics(t: TestFactory, trainWorkflowId: string): Promise<EpochMetrics[]> {
  const [run] = await t.database.db.select({ epochMetrics: trainingRuns.epochMetrics }).from(trainingRuns).where(eq(trainingRuns.workflowId, trainWorkflowId));
  return run?.epochMetrics ?? [];
}

async function waitForMetrics(t: TestFactory, trainWorkflowId: string, done: (metrics: EpochMetrics[]) => boolean): Promise<EpochMetrics[]> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const metrics = await epochMetrics(t, trainWorkflowId);
    if (done(metrics)) return metrics;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`training ${trainWorkflowId} never reached the expected epochs: ${JSON.stringify(await epochMetrics(t, trainWorkflowId))}`);
}
