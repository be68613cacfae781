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
  endpointControllerWorkflowId,
  pipelineRolloutId,
  RolloutRefusal,
  rolloutOutcomeUpdate,
  type DeployAccepted,
  type DeployRequest,
  type DeployResult,
  type PipelineRollout,
  type RolloutState,
} from '../../workflows/contracts';
import type { ActivityDeps } from '../deps';
import { heartbeatIntervalMs } from '../heartbeat';
import { guardServing } from './serving-guard';

export interface HandoverInput {
  projectId: string;
  endpointName: string;
  modelVersionId: string;
  reason: string;
  moveProductionAlias?: boolean;
  /** The pipeline handing over: names the rollout, so a retried activity reaches the same one. */
  pipelineWorkflowId: string;
  /** How to roll out (strategy, gates, simulation); absent: allAtOnce. */
  rollout?: PipelineRollout;
}

export interface RolloutOutcomeInput {
  projectId: string;
  endpointName: string;
  rolloutId: string;
}

/** Update id of the first-version fallback: a distinct one, as the refused request's id may already be recorded with its refusal. */
const FIRST_VERSION_SUFFIX = ':first-version';

export function createHandoverActivities(deps: ActivityDeps) {
  return {
    /**
     * The pipeline's deploy stage: hands the blessed version to the endpoint's controller (started when it is not
     * running) and returns once its first step's traffic is applied, so a predict right after the pipeline reaches it.
     * A canary, linear or shadow rollout on an endpoint with no stable version has nothing to compare with: like KServe's
     * first revision, the version goes out allAtOnce, and the result says so.
     */
    async deployViaEndpointController(input: HandoverInput): Promise<DeployResult> {
      const [version] = await deps.db
        .select({ id: modelVersions.id, version: modelVersions.version, model: models.name, projectId: models.projectId })
        .from(modelVersions)
        .innerJoin(models, eq(models.id, modelVersions.modelId))
        .where(eq(modelVersions.id, input.modelVersionId));
      if (version?.projectId !== input.projectId) throw new UserError('model_version_not_found', `Model version ${input.modelVersionId} does not exist in this project.`, 404);
      await guardServing(deps.db, { projectId: input.projectId, modelVersionId: version.id, endpointName: input.endpointName });

      const { taskQueue } = Context.current().info;
      const options = endpointControllerStartOptions(input.projectId, input.endpointName, taskQueue);
      const rolloutId = pipelineRolloutId(input.pipelineWorkflowId);
      const requested = input.rollout?.strategy ?? { type: 'allAtOnce' as const };
      const request: DeployRequest = {
        rolloutId,
        candidate: { versionId: version.id, model: version.model, version: version.version },
        strategy: requested,
        ...(input.rollout?.gates && { gates: input.rollout.gates }),
        ...(input.rollout?.simulate && { simulate: input.rollout.simulate }),
        reason: input.reason,
        requestedBy: `workflow:${input.pipelineWorkflowId}`,
        moveProductionAlias: input.moveProductionAlias !== false,
        waitForFirstStep: true,
      };
      const deploy = (updateId: string, req: DeployRequest) =>
        deps.temporal.workflow.executeUpdateWithStart(deployUpdate, { updateId, args: [req], startWorkflowOperation: new WithStartWorkflowOperation(ENDPOINT_CONTROLLER_WORKFLOW_TYPE, options) });
      let accepted: DeployAccepted;
      try {
        accepted = await deploy(rolloutId, request).catch((err: unknown) => {
          if (requested.type === 'allAtOnce' || refusalType(err) !== RolloutRefusal.NoStableVersion) throw err;
          return deploy(rolloutId + FIRST_VERSION_SUFFIX, { ...request, strategy: { type: 'allAtOnce' } });
        });
      } catch (err) {
        // The controller refused (another rollout runs on the endpoint): a retry would be refused the same way.
        const type = refusalType(err);
        if (type !== undefined && err instanceof WorkflowUpdateFailedError && err.cause) throw ApplicationFailure.create({ type, message: err.cause.message, nonRetryable: true });
        throw err;
      }
      if (!accepted.endpointId || accepted.failure) {
        throw ApplicationFailure.create({
          type: accepted.failure ?? 'traffic_change_failed',
          message: `the endpoint's controller did not deploy ${version.model} v${version.version}: ${accepted.outcome ?? accepted.status}`,
          nonRetryable: true,
        });
      }
      const result: DeployResult = { endpointId: accepted.endpointId, endpointName: input.endpointName, modelVersionId: version.id };
      if (!input.rollout) return result;
      const strategy = accepted.strategy ?? requested.type;
      const note =
        strategy === requested.type
          ? null
          : `endpoint ${input.endpointName} had no stable version to compare a ${requested.type} candidate with, so ${version.model} v${version.version} went out allAtOnce (as KServe does for a first revision)`;
      return { ...result, rollout: { controllerWorkflowId: accepted.workflowId, rolloutId, strategy, requested: requested.type, steps: accepted.steps.length, note } };
    },

    /**
     * The pipeline's rollout stage: waits, heartbeating, for the controller's `rolloutOutcome` Update to answer once the
     * rollout has ended. After a worker crash the retry sends the same Update id and gets the same answer.
     */
    async awaitRolloutOutcome(input: RolloutOutcomeInput): Promise<RolloutState> {
      const ctx = Context.current();
      const beat = setInterval(() => ctx.heartbeat(), heartbeatIntervalMs(ctx.info.heartbeatTimeoutMs));
      try {
        const handle = deps.temporal.workflow.getHandle(endpointControllerWorkflowId(input.projectId, input.endpointName));
        return await deps.temporal.withAbortSignal(ctx.cancellationSignal, () =>
          handle.executeUpdate(rolloutOutcomeUpdate, { updateId: `${input.rolloutId}:outcome`, args: [{ rolloutId: input.rolloutId }] }),
        );
      } catch (err) {
        const type = refusalType(err);
        if (type !== undefined && err instanceof WorkflowUpdateFailedError && err.cause) throw ApplicationFailure.create({ type, message: err.cause.message, nonRetryable: true });
        throw err;
      } finally {
        clearInterval(beat);
      }
    },
  };
}

/** The failure type of a controller's refusal (validator or handler), if that is what `err` is. */
function refusalType(err: unknown): string | undefined {
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) return err.cause.type ?? 'deploy_refused';
  return undefined;
}
