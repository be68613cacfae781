import { CancellationScope, log, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  describeFailure,
  RECORD_FAILURE_ROOT_CAUSE,
  rootCauseMessage,
  trainingProgressQuery,
  trainingProgressSignal,
  type TrainingProgress,
  type TrainingRequest,
  type TrainResult,
} from './contracts';
import { databaseActivityOptions, trainingActivityOptions } from './activity-options';

const { prepareTrainingRun, markTrainingRunFailed, recordTrainingRunFailure } = proxyActivities<Activities>(databaseActivityOptions);

/** Trains one model on the CPU or GPU queue and records the run; progress goes to the parent pipeline. */
export async function trainModel(request: TrainingRequest): Promise<TrainResult> {
  let progress: TrainingProgress | null = null;
  setHandler(trainingProgressSignal, (p) => {
    progress = p;
  });
  setHandler(trainingProgressQuery, () => progress);

  const info = workflowInfo();
  const { fitModel } = proxyActivities<Activities>({ ...trainingActivityOptions(request.timeouts), taskQueue: request.trainingTaskQueue });
  const run = await prepareTrainingRun({ ...request, workflowId: info.workflowId });
  try {
    return await fitModel({
      trainingRunId: run.trainingRunId,
      progressWorkflowId: info.parent?.workflowId ?? info.workflowId,
    });
  } catch (err) {
    if (patched(RECORD_FAILURE_ROOT_CAUSE)) {
      // Non-cancellable: a cancelled workflow still records why its run stopped.
      const failure = describeFailure(err, 'train');
      await CancellationScope.nonCancellable(() => recordTrainingRunFailure({ trainingRunId: run.trainingRunId, failure })).catch((recordErr: unknown) => {
        // The training failure is the one to report; a recording that gave up only gets logged.
        log.error('could not record the training failure', { error: rootCauseMessage(recordErr) });
      });
    } else {
      // Workflows started before the patch keep their recorded commands.
      await markTrainingRunFailed({ trainingRunId: run.trainingRunId, reason: err instanceof Error ? err.message : String(err) });
    }
    throw err;
  }
}
