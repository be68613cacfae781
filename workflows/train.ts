import { proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  trainingProgressQuery,
  trainingProgressSignal,
  type TrainingProgress,
  type TrainingRequest,
  type TrainResult,
} from './contracts';
import { databaseActivityOptions, trainingActivityOptions } from './activity-options';

const { prepareTrainingRun, markTrainingRunFailed } = proxyActivities<Activities>(databaseActivityOptions);

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
    await markTrainingRunFailed({ trainingRunId: run.trainingRunId, reason: err instanceof Error ? err.message : String(err) });
    throw err;
  }
}
