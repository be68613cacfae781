import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../activities/deps';
import { createTrainActivities } from '../../activities/train';
import { trainingRuns } from '../../db/schema';
import type { TrainingHeartbeat } from '../../activities/train';
import { ingestCsv, openRetrainHome, type RetrainHome } from '../support/retrain-fixtures';
import { churnRows, toCsv } from '../support/synthetic-data';

/** Two attempts of one fitModel at once, as when Temporal retried a worker it thought dead: only the newer one writes. */
describe('training attempt fencing', () => {
  let home: RetrainHome;
  let datasetVersionId: string;
  beforeAll(async () => {
    home = await openRetrainHome('train-fence');
    datasetVersionId = await ingestCsv(home, 'churn', toCsv(churnRows(200)));
  });
  afterAll(async () => {
    await home?.close();
  });

  it('a stale attempt that keeps running after a newer attempt finished cannot overwrite the run', async () => {
    let onFirstEpoch: (() => Promise<void>) | undefined;
    const deps = {
      db: home.database.db,
      artifacts: home.artifacts,
      preferGpu: false,
      codeVersion: 'test',
      reportProgress: async () => {
        const hook = onFirstEpoch;
        onFirstEpoch = undefined;
        await hook?.();
      },
    } as unknown as ActivityDeps;
    const train = createTrainActivities(deps);
    const workflowId = `train-fence-${randomUUID()}`;
    // Each attempt is scheduled by Temporal at its own time, the later attempt later.
    const attemptOf = (attempt: number, scheduledAt: number) => ({
      run: <R>(fn: () => Promise<R>): Promise<R> =>
        new MockActivityEnvironment(
          { attempt, currentAttemptScheduledTimestampMs: scheduledAt, workflowExecution: { workflowId, runId: randomUUID() }, heartbeatDetails: undefined as TrainingHeartbeat | undefined },
          { logger: new DefaultLogger('ERROR') },
        ).run<[], R, () => Promise<R>>(fn),
    });
    const { trainingRunId } = await attemptOf(1, 0).run(() =>
      train.prepareTrainingRun({
        projectId: home.projectId,
        datasetVersionId,
        target: 'churned',
        features: ['tenure', 'spend'],
        spec: { type: 'logistic', epochs: 3, learningRate: 0.1, batchSize: 32, hiddenUnits: [], seed: 7, testFraction: 0.2 },
        accelerator: 'cpu',
        trainingTaskQueue: 'factory-gpu-test',
        workflowId,
      }),
    );
    const input = { trainingRunId, progressWorkflowId: workflowId };
    const t0 = Date.now();

    // Attempt 1 trains its first epoch; then Temporal (heartbeat timeout) gives the work to attempt 2, which finishes.
    let newer: Awaited<ReturnType<typeof train.fitModel>> | undefined;
    onFirstEpoch = async () => {
      newer = await attemptOf(2, t0 + 60_000).run(() => train.fitModel(input));
    };
    const stale = attemptOf(1, t0).run(() => train.fitModel(input));
    await expect(stale).rejects.toMatchObject({ type: 'StaleTrainingAttempt', nonRetryable: true });

    const [run] = await home.database.db.select().from(trainingRuns).where(eq(trainingRuns.id, trainingRunId));
    expect(run?.status).toBe('succeeded');
    expect(run?.modelUri).toBe(newer?.modelUri);
    // Every epoch after the take-over is attempt 2's: the stale attempt wrote nothing after it.
    expect(run?.epochMetrics.map((m) => [m.epoch, m.attempt])).toEqual([
      [1, 1],
      [2, 2],
      [3, 2],
    ]);

    // An attempt scheduled before the newest one is refused as soon as it starts.
    await expect(attemptOf(1, t0 - 1).run(() => train.fitModel(input))).rejects.toMatchObject({ type: 'StaleTrainingAttempt' });
    const [after] = await home.database.db.select().from(trainingRuns).where(eq(trainingRuns.id, trainingRunId));
    expect(after).toEqual(run);
  });
});
