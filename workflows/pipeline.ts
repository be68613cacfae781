import { CancellationScope, executeChild, log, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { databaseActivityOptions } from './activity-options';
import {
  describeFailure,
  RECORD_FAILURE_ROOT_CAUSE,
  pipelineStatusQuery,
  rootCauseMessage,
  trainingProgressSignal,
  type PipelineInput,
  type PipelineResult,
  type PipelineStatus,
} from './contracts';
import { trainModel } from './train';
import { exportModel } from './export';
import { evaluateModel } from './evaluate';
import { registerModel } from './register';
import { deployModel } from './deploy';

const { recordPipelineFailure } = proxyActivities<Activities>(databaseActivityOptions);

/** The factory line: train → export → evaluate → register → deploy, each stage a child workflow. */
export async function factoryPipeline(input: PipelineInput): Promise<PipelineResult> {
  const status: PipelineStatus = {
    stage: 'train',
    training: null,
    trainingRunId: null,
    evaluation: null,
    modelVersion: null,
    endpoint: input.endpointName,
    error: null,
  };
  setHandler(pipelineStatusQuery, () => status);
  setHandler(trainingProgressSignal, (progress) => {
    status.training = progress;
  });
  const id = workflowInfo().workflowId;

  try {
    const trained = await executeChild(trainModel, { workflowId: `${id}/train`, args: [input] });
    status.trainingRunId = trained.trainingRunId;
    status.task = trained.task ?? null;

    status.stage = 'export';
    const exported = await executeChild(exportModel, {
      workflowId: `${id}/export`,
      args: [{ trainingRunId: trained.trainingRunId, modelUri: trained.modelUri, timeouts: input.timeouts }],
    });

    status.stage = 'evaluate';
    const evaluation = await executeChild(evaluateModel, {
      workflowId: `${id}/evaluate`,
      args: [
        {
          trainingRunId: trained.trainingRunId,
          modelUri: trained.modelUri,
          onnxUri: exported.onnxUri,
          timeouts: input.timeouts,
          projectId: input.projectId,
          modelName: input.modelName,
          thresholds: input.promotion?.thresholds ?? [],
          minAccuracy: input.minAccuracy,
          minR2: input.minR2 ?? null,
          ...(input.slices && { slices: input.slices }),
          ...(input.fairness && { fairness: input.fairness }),
        },
      ],
    });
    status.evaluation = evaluation;

    status.stage = 'register';
    const modelVersion = await executeChild(registerModel, {
      workflowId: `${id}/register`,
      args: [
        {
          projectId: input.projectId,
          modelName: input.modelName,
          trainingRunId: trained.trainingRunId,
          onnxUri: exported.onnxUri,
          onnxSha256: exported.onnxSha256,
          minAccuracy: input.minAccuracy,
          minR2: input.minR2 ?? null,
        },
      ],
    });
    status.modelVersion = { id: modelVersion.modelVersionId, name: modelVersion.modelName, version: modelVersion.version };
    if (!modelVersion.blessed) {
      status.stage = 'rejected';
      return { stage: 'rejected', trainingRunId: trained.trainingRunId, evaluation, modelVersion, deployment: null };
    }

    status.stage = 'deploy';
    const deployment = await executeChild(deployModel, {
      workflowId: `${id}/deploy`,
      args: [
        {
          projectId: input.projectId,
          endpointName: input.endpointName,
          modelVersionId: modelVersion.modelVersionId,
          reason: `pipeline ${id}: ${modelVersion.modelName} v${modelVersion.version} passed evaluation`,
        },
      ],
    });
    status.stage = 'done';
    return { stage: 'done', trainingRunId: trained.trainingRunId, evaluation, modelVersion, deployment };
  } catch (err) {
    const stage = status.stage;
    status.error = `${stage}: ${rootCauseMessage(err)}`;
    status.stage = 'failed';
    if (patched(RECORD_FAILURE_ROOT_CAUSE)) {
      // Non-cancellable: a cancelled pipeline still records why it stopped, then ends cancelled.
      await CancellationScope.nonCancellable(() =>
        recordPipelineFailure({
          trainWorkflowId: `${id}/train`,
          modelVersionId: status.modelVersion?.id ?? null,
          deploy: stage === 'deploy' ? { projectId: input.projectId, endpointName: input.endpointName, deployWorkflowId: `${id}/deploy` } : null,
          failure: describeFailure(err, stage),
        }),
      ).catch((recordErr: unknown) => {
        // The stage's failure is the one to report; a recording that gave up only gets logged.
        log.error('could not record the pipeline failure', { error: rootCauseMessage(recordErr) });
      });
    }
    throw err;
  }
}
