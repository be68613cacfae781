import { Context } from '@temporalio/activity';
import { WithStartWorkflowOperation, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { eq } from 'drizzle-orm';
import { models, modelVersions } from '../../db/schema';
import { UserError } from '../../platform/user-error';
import {
  deployUpdate,
  ENDPOINT_CONTROLLER_WORKFLOW_TYPE,
  endpointControllerStartOptions,
  pipelineRolloutId,
  type DeployInput,
  type DeployResult,
  type RolloutStrategy,
} from '../../workflows/contracts';
import type { ActivityDeps } from '../deps';

export interface HandoverInput extends DeployInput {
  /** The pipeline handing over: names the rollout, so a retried activity reaches the same one. */
  pipelineWorkflowId: string;
  strategy?: RolloutStrategy;
}

export function createHandoverActivities(deps: ActivityDeps) {
  return {
    /**
     * The pipeline's deploy stage: hands the blessed version to the endpoint's controller (started when it is not
     * running) and returns once its first step's traffic is applied, so a predict right after the pipeline reaches it.
     */
    async deployViaEndpointController(input: HandoverInput): Promise<DeployResult> {
      const [version] = await deps.db
        .select({ id: modelVersions.id, version: modelVersions.version, model: models.name, projectId: models.projectId })
        .from(modelVersions)
        .innerJoin(models, eq(models.id, modelVersions.modelId))
        .where(eq(modelVersions.id, input.modelVersionId));
      if (version?.projectId !== input.projectId) throw new UserError('model_version_not_found', `Model version ${input.modelVersionId} does not exist in this project.`, 404);

      const { taskQueue } = Context.current().info;
      const options = endpointControllerStartOptions(input.projectId, input.endpointName, taskQueue);
      const rolloutId = pipelineRolloutId(input.pipelineWorkflowId);
      try {
        const accepted = await deps.temporal.workflow.executeUpdateWithStart(deployUpdate, {
          updateId: rolloutId,
          args: [
            {
              rolloutId,
              candidate: { versionId: version.id, model: version.model, version: version.version },
              strategy: input.strategy ?? { type: 'allAtOnce' },
              reason: input.reason,
              requestedBy: `workflow:${input.pipelineWorkflowId}`,
              moveProductionAlias: input.moveProductionAlias !== false,
              waitForFirstStep: true,
            },
          ],
          startWorkflowOperation: new WithStartWorkflowOperation(ENDPOINT_CONTROLLER_WORKFLOW_TYPE, options),
        });
        if (!accepted.endpointId || accepted.failure) {
          throw ApplicationFailure.create({
            type: accepted.failure ?? 'traffic_change_failed',
            message: `the endpoint's controller did not deploy ${version.model} v${version.version}: ${accepted.outcome ?? accepted.status}`,
            nonRetryable: true,
          });
        }
        return { endpointId: accepted.endpointId, endpointName: input.endpointName, modelVersionId: version.id };
      } catch (err) {
        // The controller refused (another rollout runs on the endpoint): a retry would be refused the same way.
        if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
          throw ApplicationFailure.create({ type: err.cause.type ?? 'deploy_refused', message: err.cause.message, nonRetryable: true });
        }
        throw err;
      }
    },
  };
}
