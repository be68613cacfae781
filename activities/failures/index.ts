import { and, eq, inArray, isNull } from 'drizzle-orm';
import { endpointEvents, endpoints, modelVersions, trainingRuns } from '../../db/schema';
import { formatFailure, type FailureCause } from '../../workflows/contracts';
import type { ActivityDeps } from '../deps';

export interface PipelineFailureInput {
  /** The pipeline's train stage workflow id: finds the run even when the stage never returned its id. */
  trainWorkflowId: string;
  /** The version the pipeline registered before a later stage failed, if it got that far. */
  modelVersionId: string | null;
  /** Set when the deploy stage failed: that endpoint is marked failed but keeps serving its stable version. */
  deploy: { projectId: string; endpointName: string; deployWorkflowId: string } | null;
  failure: FailureCause;
}

/** The first recorded cause wins: it was written closest to where the failure happened. */
const UNFINISHED_OR_SUCCEEDED = ['running', 'succeeded'] as const;

function runStatus(failure: FailureCause): 'failed' | 'cancelled' {
  return failure.type === 'cancelled' ? 'cancelled' : 'failed';
}

export function createFailureActivities(deps: ActivityDeps) {
  return {
    /** Marks a training run failed or cancelled with its root cause; repeating it changes nothing. */
    async recordTrainingRunFailure(input: { trainingRunId: string; failure: FailureCause }): Promise<void> {
      await deps.db
        .update(trainingRuns)
        .set({ status: runStatus(input.failure), failure: formatFailure(input.failure), failureCause: input.failure, finishedAt: new Date() })
        .where(and(eq(trainingRuns.id, input.trainingRunId), inArray(trainingRuns.status, UNFINISHED_OR_SUCCEEDED)));
    },

    /** Records a failed or cancelled pipeline on its training run, registered model version and endpoint, in one transaction. */
    async recordPipelineFailure(input: PipelineFailureInput): Promise<void> {
      const failure = formatFailure(input.failure);
      const now = new Date();
      await deps.db.transaction(async (tx) => {
        await tx
          .update(trainingRuns)
          .set({ status: runStatus(input.failure), failure, failureCause: input.failure, finishedAt: now })
          .where(and(eq(trainingRuns.workflowId, input.trainWorkflowId), inArray(trainingRuns.status, UNFINISHED_OR_SUCCEEDED)));
        if (input.modelVersionId) {
          await tx
            .update(modelVersions)
            .set({ failure, failureCause: input.failure, failedAt: now })
            .where(and(eq(modelVersions.id, input.modelVersionId), isNull(modelVersions.failedAt)));
        }
        if (input.deploy) {
          // A deploy that committed before the cancellation reached it did happen: the endpoint is not failed.
          const [deployed] = await tx.select({ id: endpointEvents.id }).from(endpointEvents).where(eq(endpointEvents.idempotencyKey, input.deploy.deployWorkflowId));
          if (!deployed) {
            await tx
              .update(endpoints)
              .set({ status: 'failed', failure, failureCause: input.failure, updatedAt: now })
              .where(and(eq(endpoints.projectId, input.deploy.projectId), eq(endpoints.name, input.deploy.endpointName)));
          }
        }
      });
    },
  };
}
