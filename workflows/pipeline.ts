import { ApplicationFailure, CancellationScope, executeChild, startChild, log, patched, proxyActivities, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import { databaseActivityOptions, rolloutWaitActivityOptions } from './activity-options';
import {
  DEPLOY_VIA_ENDPOINT_CONTROLLER,
  describeFailure,
  endpointControllerWorkflowId,
  FailureType,
  pipelineRolloutId,
  PIPELINE_ROLLOUT,
  trafficChangeKey,
  type PipelineRolloutStatus,
  type TrafficChangeKind,
  type DeployInput,
  type DeployResult,
  PROMOTION_STAGE,
  promotionWorkflowId,
  RECORD_FAILURE_ROOT_CAUSE,
  pipelineStatusQuery,
  rootCauseMessage,
  trainingProgressSignal,
  type PipelineInput,
  type PipelineResult,
  type PipelineStatus,
  type PromoteResult,
  type RegisterResult,
} from './contracts';
import { trainModel } from './train';
import { exportModel } from './export';
import { evaluateModel } from './evaluate';
import { registerModel } from './register';
import { deployModel } from './deploy';
import { promoteModel } from './promote';
import { infraValidateModel } from './infra-validate';

/** Guards the infra-validate stage, so pipelines recorded before it replay. */
const INFRA_VALIDATE_STAGE = 'infra-validate-stage';

const { recordPipelineFailure } = proxyActivities<Activities>(databaseActivityOptions);
/** Waits for the endpoint's controller to apply the deploy (it may first have to start). */
const { deployViaEndpointController } = proxyActivities<Activities>({ ...databaseActivityOptions, startToCloseTimeout: '5 minutes' });

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
  // What the deploy stage's endpoint event is keyed by: a failure recorded after it committed leaves the endpoint alone.
  let deployEventKey = `${id}/deploy`;

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
      status.rejection = `not blessed: ${modelVersion.reasons.join('; ')}`;
      return { stage: 'rejected', trainingRunId: trained.trainingRunId, evaluation, modelVersion, deployment: null };
    }

    if (patched(INFRA_VALIDATE_STAGE)) {
      // A blessed candidate must also load and answer in the serving runtime, in a process of its own, before it goes anywhere.
      status.stage = 'infra-validate';
      status.infraValidation = await executeChild(infraValidateModel, {
        workflowId: `${id}/infra-validate`,
        args: [{ trainingRunId: trained.trainingRunId, onnxUri: exported.onnxUri, timeouts: input.timeouts, ...(input.promotion?.latencyBudgetMs !== undefined && { latencyBudgetMs: input.promotion.latencyBudgetMs }) }],
      });
    }
    let promotion: PromoteResult | null = null;
    if (input.promotion && patched(PROMOTION_STAGE)) {
      status.stage = 'promote';
      promotion = await promote(input, modelVersion, status);
      if (!promotion.promoted) {
        status.stage = 'rejected';
        const { decision } = promotion;
        status.rejection = decision.by === 'timeout' ? `approval timed out: ${decision.reason}` : `approval rejected by ${decision.by}: ${decision.reason}`;
        return { stage: 'rejected', trainingRunId: trained.trainingRunId, evaluation, modelVersion, deployment: null, promotion, rejection: status.rejection };
      }
    }

    status.stage = 'deploy';
    const deployInput: DeployInput = {
      projectId: input.projectId,
      endpointName: input.endpointName,
      modelVersionId: modelVersion.modelVersionId,
      reason: `pipeline ${id}: ${modelVersion.modelName} v${modelVersion.version} passed evaluation`,
      // The promotion stage already moved `production`; deploy only points the endpoint at it.
      ...(promotion && { moveProductionAlias: false }),
    };
    let deployment: DeployResult;
    let rollout: PipelineRolloutStatus | null = null;
    if (patched(DEPLOY_VIA_ENDPOINT_CONTROLLER)) {
      // A rollout asked for is handed to the controller with its gates; without one (or in histories from before), allAtOnce.
      const requested = input.rollout && patched(PIPELINE_ROLLOUT) ? input.rollout : undefined;
      // The key of the first step's event: a failure recorded after that step committed leaves the endpoint alone.
      deployEventKey = trafficChangeKey(endpointControllerWorkflowId(input.projectId, input.endpointName), pipelineRolloutId(id), 0, firstStepKind(requested));
      deployment = await deployViaEndpointController({ ...deployInput, pipelineWorkflowId: id, ...(requested && { rollout: requested }) });
      if (deployment.rollout) {
        rollout = await awaitRollout(input, deployment.rollout, status);
        if (rollout.status !== 'succeeded') {
          status.stage = 'rejected';
          status.rejection = `${rollout.strategy} rollout ${rollout.status.replace('_', ' ')}: ${rollout.outcome ?? rollout.failure ?? 'no outcome recorded'}`;
          return { stage: 'rejected', trainingRunId: trained.trainingRunId, evaluation, modelVersion, deployment: null, ...(promotion && { promotion }), rejection: status.rejection, rollout };
        }
      }
    } else {
      deployment = await executeChild(deployModel, { workflowId: `${id}/deploy`, args: [deployInput] });
    }
    status.stage = 'done';
    return { stage: 'done', trainingRunId: trained.trainingRunId, evaluation, modelVersion, deployment, ...(promotion && { promotion }), ...(rollout && { rollout }) };
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
          deploy: stage === 'deploy' ? { projectId: input.projectId, endpointName: input.endpointName, deployWorkflowId: deployEventKey } : null,
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

/**
 * The rollout stage: waits for the controller to end the pipeline's rollout (promoted at 100 %, or rolled back by a gate).
 * The wait is an activity that heartbeats on the controller's `rolloutOutcome` Update, so a crashed worker's wait is taken up by another.
 */
async function awaitRollout(input: PipelineInput, handedOver: NonNullable<DeployResult['rollout']>, status: PipelineStatus): Promise<PipelineRolloutStatus> {
  const { awaitRolloutOutcome } = proxyActivities<Activities>(rolloutWaitActivityOptions(input.timeouts));
  status.stage = 'rollout';
  const running: PipelineRolloutStatus = { ...handedOver, status: 'running', gates: [], breached: null, outcome: null, failure: null };
  status.rollout = running;
  setCurrentDetails(`rollout stage: ${handedOver.strategy} rollout ${handedOver.rolloutId} on endpoint ${input.endpointName} (live steps at GET /v1/endpoints/${input.endpointName})`);
  const ended = await awaitRolloutOutcome({ projectId: input.projectId, endpointName: input.endpointName, rolloutId: handedOver.rolloutId });
  const outcome: PipelineRolloutStatus = { ...running, status: ended.status, gates: ended.readings, breached: ended.breached, outcome: ended.outcome, failure: ended.failure };
  status.rollout = outcome;
  return outcome;
}

/** The kind of event a rollout's first step writes, by strategy. */
function firstStepKind(rollout: PipelineInput['rollout']): TrafficChangeKind {
  const type = rollout?.strategy.type ?? 'allAtOnce';
  if (type === 'allAtOnce') return 'deploy';
  return type === 'shadow' ? 'shadow' : 'canary';
}

/** The promotion stage: a promoteModel child under the alias's one-at-a-time id, waiting for approval when the policy asks. */
async function promote(input: PipelineInput, modelVersion: RegisterResult, status: PipelineStatus): Promise<PromoteResult> {
  const policy = input.promotion ?? { thresholds: [], requireApproval: false, approvalTimeoutMs: 0 };
  const { workflowId: id } = workflowInfo();
  const promotionId = promotionWorkflowId(input.projectId, input.modelName, 'production');
  // Started first and awaited after: the status names the child's run only once it exists, so a decision never reaches an older run.
  const child = await startChild(promoteModel, {
    workflowId: promotionId,
    args: [
      {
        projectId: input.projectId,
        modelName: modelVersion.modelName,
        modelVersionId: modelVersion.modelVersionId,
        version: modelVersion.version,
        alias: 'production',
        reason: `pipeline ${id}: ${modelVersion.modelName} v${modelVersion.version} passed evaluation`,
        requestedBy: input.requestedBy ?? `workflow:${id}`,
        requireApproval: policy.requireApproval,
        approvalTimeoutMs: policy.approvalTimeoutMs,
      },
    ],
  }).catch((err: unknown) => {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    throw ApplicationFailure.create({
      type: FailureType.PromotionInProgress,
      message: `another promotion of ${input.modelName}'s production alias (workflow ${promotionId}) was running; decide it, then run the pipeline again`,
      nonRetryable: true,
    });
  });
  const waitingSince = policy.requireApproval ? new Date().toISOString() : null;
  status.promotion = {
    workflowId: promotionId,
    runId: child.firstExecutionRunId,
    state: policy.requireApproval ? 'waiting_for_approval' : 'moving',
    waitingSince,
    decision: null,
  };
  if (waitingSince) setCurrentDetails(`promotion stage: waiting for approval since ${waitingSince} (decide with POST /v1/workflows/${id}/approval)`);
  const result = await child.result();
  status.promotion = { ...status.promotion, state: result.promoted ? 'promoted' : 'rejected', decision: result.decision };
  setCurrentDetails(result.promoted ? `promoted by ${result.decision.by}` : `promotion rejected by ${result.decision.by}: ${result.decision.reason}`);
  return result;
}
