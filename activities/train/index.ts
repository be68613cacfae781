import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { eq } from 'drizzle-orm';
import { getDatasetVersion } from '../../db/queries/datasets';
import { trainingRuns } from '../../db/schema';
import { newId } from '../../platform/ids';
import { initTfBackend } from '../../ml/tf-backend';
import { computeStandardisation, applyStandardisation } from '../../ml/standardise';
import { buildTfModel, toTrainedModel } from '../../ml/tf-model';
import { trainEpochs, type TrainingCheckpoint } from '../../ml/train-loop';
import type { TrainingRequest, TrainResult } from '../../workflows/contracts';
import type { ActivityDeps } from '../deps';
import { decodeDatasetArrow } from '../../data/columnar';
import { selectRows, selectValues } from '../../data/design-matrix';
import { loadTrainingData, loadTrainingRun } from './load-training-data';
import { binaryClasses, resolveTrainingColumns } from '../../data/training-columns';

/** What a training attempt heartbeats: a retry resumes after the last checkpointed epoch. */
export interface TrainingHeartbeat {
  epoch: number;
  epochs: number;
  loss: number;
  checkpointUri: string;
}

export function createTrainActivities(deps: ActivityDeps) {
  return {
    /** Checks the request against the dataset version and records the run (once per workflow). */
    async prepareTrainingRun(request: TrainingRequest & { workflowId: string }): Promise<{ trainingRunId: string }> {
      const [existing] = await deps.db.select().from(trainingRuns).where(eq(trainingRuns.workflowId, request.workflowId));
      if (existing) return { trainingRunId: existing.id };
      const version = await getDatasetVersion(deps.db, request.datasetVersionId);
      const features = resolveTrainingColumns(version.schema, request.target, request.features);
      const targetType = version.schema.find((c) => c.name === request.target)?.type ?? 'string';
      const table = decodeDatasetArrow(await deps.artifacts.get(version.artifactUri));
      const classes = binaryClasses(table.stringColumn(request.target), request.target, targetType);
      const id = newId('run');
      await deps.db
        .insert(trainingRuns)
        .values({
          id,
          projectId: request.projectId,
          datasetVersionId: request.datasetVersionId,
          workflowId: request.workflowId,
          target: request.target,
          features,
          classes,
          spec: request.spec,
          taskQueue: request.trainingTaskQueue,
          status: 'running',
          codeVersion: deps.codeVersion,
        })
        .onConflictDoNothing({ target: trainingRuns.workflowId });
      const [run] = await deps.db.select().from(trainingRuns).where(eq(trainingRuns.workflowId, request.workflowId));
      return { trainingRunId: run?.id ?? id };
    },

    /** Trains epoch by epoch; heartbeats and checkpoints every epoch and resumes from the last one after a retry. */
    async fitModel(input: { trainingRunId: string; progressWorkflowId: string }): Promise<TrainResult> {
      const ctx = Context.current();
      const { backend } = await initTfBackend({ preferGpu: deps.preferGpu });
      const { run, matrix, split } = await loadTrainingData(deps, input.trainingRunId);
      const log = ctx.log;
      log.info('training', { trainingRunId: run.id, backend, taskQueue: ctx.info.taskQueue, attempt: ctx.info.attempt });

      const width = run.features.length;
      const trainX = selectRows(matrix.x, width, split.train);
      const trainY = selectValues(matrix.y, split.train);
      const standardisation = computeStandardisation(trainX, split.train.length, width);
      const x = applyStandardisation(trainX, split.train.length, standardisation);

      const previous = ctx.info.heartbeatDetails as TrainingHeartbeat | undefined;
      const resumeFrom = previous ? await deps.artifacts.getJson<TrainingCheckpoint>(previous.checkpointUri) : undefined;
      if (resumeFrom) log.info('resuming from checkpoint', { epoch: resumeFrom.epoch });
      await deps.db.update(trainingRuns).set({ backend, status: 'running' }).where(eq(trainingRuns.id, run.id));

      const model = buildTfModel(run.spec, width);
      try {
        const { history } = await trainEpochs({
          model,
          x,
          y: trainY,
          n: split.train.length,
          inputSize: width,
          spec: run.spec,
          resumeFrom,
          onEpoch: async (progress, checkpoint) => {
            if (ctx.cancellationSignal.aborted) throw new CancelledFailure('training cancelled');
            const stored = await deps.artifacts.putJson(await checkpoint());
            ctx.heartbeat({ ...progress, checkpointUri: stored.uri } satisfies TrainingHeartbeat);
            const [current] = await deps.db.select({ epochMetrics: trainingRuns.epochMetrics }).from(trainingRuns).where(eq(trainingRuns.id, run.id));
            const epochMetrics = [...(current?.epochMetrics ?? []).filter((m) => m.epoch < progress.epoch), { epoch: progress.epoch, loss: progress.loss, attempt: ctx.info.attempt }];
            await deps.db.update(trainingRuns).set({ epochMetrics, checkpointUri: stored.uri }).where(eq(trainingRuns.id, run.id));
            await deps.reportProgress(input.progressWorkflowId, progress);
          },
        });
        const trained = toTrainedModel(model, { family: run.spec.type, features: run.features, standardisation, classes: run.classes });
        const stored = await deps.artifacts.putJson(trained);
        await deps.db
          .update(trainingRuns)
          .set({ status: 'succeeded', modelUri: stored.uri, finishedAt: new Date() })
          .where(eq(trainingRuns.id, run.id));
        const finalLoss = history.at(-1)?.loss ?? Number.NaN;
        return { trainingRunId: run.id, modelUri: stored.uri, features: run.features, classes: run.classes, backend, finalLoss };
      } finally {
        model.dispose();
      }
    },

    /** Kept for train workflows started before `record-failure-root-cause`; new ones call recordTrainingRunFailure. */
    async markTrainingRunFailed(input: { trainingRunId: string; reason: string }): Promise<void> {
      await loadTrainingRun(deps, input.trainingRunId);
      await deps.db
        .update(trainingRuns)
        .set({ status: 'failed', failure: input.reason, finishedAt: new Date() })
        .where(eq(trainingRuns.id, input.trainingRunId));
    },
  };
}
