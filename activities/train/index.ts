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
import { buildDesignMatrix, selectRows, selectValues, type TargetEncoding } from '../../data/design-matrix';
import { checkSplitKey, hashSplitOf } from '../../data/row-split';
import { loadTrainingData, loadTrainingRun, type TrainingRunRow } from './load-training-data';
import { throttledHeartbeat } from '../heartbeat';
import { TrainingAttemptFence } from './attempt-fence';
import { resolveTrainingColumns } from '../../data/training-columns';
import { checkFamilyForTask, chooseTask, profileValues, targetClasses } from '../../data/target-task';
import { standardiseTarget } from '../../ml/standardise';
import type { ModelHead } from '../../ml/tf-model';

/** What a training attempt heartbeats: a retry resumes after the last checkpointed epoch. */
export interface TrainingHeartbeat {
  /** Last completed and checkpointed epoch (0 before the first). */
  epoch: number;
  epochs: number;
  loss: number;
  checkpointUri: string | null;
  /** Progress inside the epoch being trained, so the heartbeat keeps coming however long an epoch takes. */
  batch?: number;
  batches?: number;
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
      const targetValues = table.stringColumn(request.target);
      const choice = chooseTask(request.target, profileValues(targetValues, targetType), request.task);
      checkFamilyForTask(request.spec.type, choice);
      const classes = choice.task === 'classification' ? targetClasses(targetValues, targetType) : null;
      checkSplitKey(version.schema, request.splitKey);
      const encoding: TargetEncoding = classes ? { task: 'classification', classes } : { task: 'regression' };
      const matrix = buildDesignMatrix(table, features, request.target, encoding);
      const split = hashSplitOf(table, matrix.sourceRows, { splitKey: request.splitKey ?? null, target: request.target, features }, request.spec.testFraction);
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
          task: choice.task,
          taskReason: choice.reason,
          classes,
          spec: request.spec,
          split,
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
      const beat = throttledHeartbeat(ctx);
      const previous = ctx.info.heartbeatDetails as TrainingHeartbeat | undefined;
      // Re-send what the last attempt reached, so a crash while loading doesn't lose the resume point.
      beat(previous ?? null, true);
      const { backend } = await initTfBackend({ preferGpu: deps.preferGpu });
      const { run, matrix, split } = await loadTrainingData(deps, input.trainingRunId);
      beat(previous ?? null, true);
      const log = ctx.log;
      log.info('training', { trainingRunId: run.id, backend, taskQueue: ctx.info.taskQueue, attempt: ctx.info.attempt });

      const width = run.features.length;
      const trainX = selectRows(matrix.x, width, split.train);
      const rawTrainY = selectValues(matrix.y, split.train);
      // A regressor learns the standardised target; the export turns its output back into the target's units.
      const targetScaling = run.task === 'regression' ? standardiseTarget(rawTrainY) : null;
      const trainY = targetScaling?.y ?? rawTrainY;
      const head: ModelHead = run.task === 'regression' ? { task: 'regression' } : { task: 'classification', classes: run.classes?.length ?? 2 };
      const standardisation = computeStandardisation(trainX, split.train.length, width);
      const x = applyStandardisation(trainX, split.train.length, standardisation);

      const resumeFrom = await resumePoint(deps, run, previous);
      if (resumeFrom) log.info('resuming from checkpoint', { epoch: resumeFrom.epoch });
      let reached: TrainingHeartbeat = {
        epoch: resumeFrom?.epoch ?? 0,
        epochs: run.spec.epochs,
        loss: resumeFrom?.history.at(-1)?.loss ?? Number.NaN,
        checkpointUri: resumeFrom ? (previous?.epoch === resumeFrom.epoch ? previous.checkpointUri : run.checkpointUri) : null,
      };
      beat(reached, true);
      const fence = new TrainingAttemptFence(deps.db, run.id, new Date(ctx.info.currentAttemptScheduledTimestampMs));
      await fence.claim();
      await fence.write({ backend, status: 'running' });

      const model = buildTfModel(run.spec, width, head);
      try {
        const { history } = await trainEpochs({
          model,
          x,
          y: trainY,
          n: split.train.length,
          inputSize: width,
          spec: run.spec,
          resumeFrom,
          onBatch: ({ batch, batches }) => beat({ ...reached, batch, batches } satisfies TrainingHeartbeat),
          onEpoch: async (progress, checkpoint) => {
            if (ctx.cancellationSignal.aborted) throw new CancelledFailure('training cancelled');
            const stored = await deps.artifacts.putJson(await checkpoint());
            const [current] = await deps.db.select({ epochMetrics: trainingRuns.epochMetrics }).from(trainingRuns).where(eq(trainingRuns.id, run.id));
            const epochMetrics = [...(current?.epochMetrics ?? []).filter((m) => m.epoch < progress.epoch), { epoch: progress.epoch, loss: progress.loss, attempt: ctx.info.attempt }];
            await fence.write({ epochMetrics, checkpointUri: stored.uri });
            // Only after the row: a heartbeat ahead of it would resume past an epoch whose metrics were never written.
            reached = { ...progress, checkpointUri: stored.uri };
            beat(reached, true);
            await deps.reportProgress(input.progressWorkflowId, progress);
          },
        });
        const meta = { family: run.spec.type, features: run.features, standardisation };
        const trained = targetScaling
          ? toTrainedModel(model, { ...meta, task: 'regression', target: targetScaling.target })
          : toTrainedModel(model, { ...meta, task: 'classification', classes: run.classes ?? [] });
        const stored = await deps.artifacts.putJson(trained);
        await fence.write({ status: 'succeeded', modelUri: stored.uri, finishedAt: new Date() });
        const finalLoss = history.at(-1)?.loss ?? Number.NaN;
        const task = { task: run.task, reason: run.taskReason ?? 'recorded before tasks were inferred' };
        return { trainingRunId: run.id, modelUri: stored.uri, features: run.features, task, classes: run.classes, backend, finalLoss };
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

/**
 * The later of the last heartbeat and the per-epoch row: the SDK throttles heartbeats, so after a SIGKILL
 * the row (written every epoch) may be ahead of what reached the server; at most the epoch in progress repeats.
 */
async function resumePoint(deps: ActivityDeps, run: TrainingRunRow, heartbeat: TrainingHeartbeat | undefined): Promise<TrainingCheckpoint | undefined> {
  const rowEpoch = run.epochMetrics.at(-1)?.epoch ?? 0;
  const heartbeatEpoch = heartbeat?.checkpointUri ? heartbeat.epoch : 0;
  const uri = rowEpoch > heartbeatEpoch ? run.checkpointUri : heartbeat?.checkpointUri;
  return uri ? deps.artifacts.getJson<TrainingCheckpoint>(uri) : undefined;
}
