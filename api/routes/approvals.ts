import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Hono } from 'hono';
import { z } from 'zod';
import { UserError } from '../../platform/user-error';
import { ownerOfActor } from '../../db/queries/api-keys';
import { approvalUpdate, ApprovalRefusal, pipelineStatusQuery, promotionStatusQuery, type PromotionDecision, type PromotionStatus } from '../../workflows/contracts';
import type { ApiDeps } from '../deps';
import type { ApiEnv } from '../env';
import { parseJsonBody } from '../json-body';
import { requirePermission } from '../middleware/api-key-auth';
import { describeOwnedWorkflow } from './workflows';

const approvalRequest = z.object({ decision: z.enum(['approve', 'reject']), reason: z.string().trim().min(1).max(1000) }).strict();

/** Mounted under /v1/workflows: a human decision on a waiting promotion (or the pipeline whose promotion waits). */
export function approvalRoutes(deps: ApiDeps) {
  const app = new Hono<ApiEnv>();

  app.post('/:id{.+}/approval', requirePermission('approve'), async (c) => {
    const workflowId = c.req.param('id');
    const body = await parseJsonBody(c, approvalRequest);
    const { projectId, keyId, owner } = c.get('auth');
    const { promotionId, runId } = await waitingPromotionOf(deps, projectId, workflowId);
    const promotion = deps.temporal.workflow.getHandle(promotionId, runId);
    await refuseOwnPromotion(deps, projectId, owner, await promotion.query(promotionStatusQuery));
    let decision: PromotionDecision;
    try {
      decision = await promotion.executeUpdate(approvalUpdate, { args: [{ decision: body.decision, reason: body.reason, by: keyId }] });
    } catch (err) {
      throw approvalRefused(err, promotionId);
    }
    return c.json({ workflowId, promotionWorkflowId: promotionId, decision });
  });

  return app;
}

/** Four eyes per person: the owner of the key that requested the promotion (or started its pipeline) decides with none of their keys. */
async function refuseOwnPromotion(deps: ApiDeps, projectId: string, owner: string, status: PromotionStatus): Promise<void> {
  const requester = await ownerOfActor(deps.db, projectId, status.requestedBy);
  if (requester !== null && requester === owner) {
    throw new UserError(
      'cannot_approve_own_model',
      `${owner} requested this promotion (with key ${status.requestedBy}) and may not decide it with any of their keys; ask another person (four eyes).`,
      403,
    );
  }
}

/** The promoteModel run a decision goes to: the workflow itself, or the promotion stage of a pipeline (that exact run). */
async function waitingPromotionOf(deps: ApiDeps, projectId: string, workflowId: string): Promise<{ promotionId: string; runId?: string }> {
  const description = await describeOwnedWorkflow(deps, projectId, workflowId);
  if (description.status.name !== 'RUNNING') throw notWaiting(`Workflow ${workflowId} has finished (${description.status.name}); there is nothing to decide.`);
  if (description.type === 'promoteModel') return { promotionId: workflowId, runId: description.runId };
  if (description.type === 'factoryPipeline') {
    const status = await deps.temporal.workflow.getHandle(workflowId).query(pipelineStatusQuery);
    const promotion = status.stage === 'promote' ? status.promotion : null;
    if (!promotion) throw notWaiting(`Pipeline ${workflowId} is in its ${status.stage} stage, not waiting for an approval.`);
    return { promotionId: promotion.workflowId, runId: promotion.runId };
  }
  throw notWaiting(`Workflow ${workflowId} is a ${description.type}, which takes no approval; send decisions to a promotion or a pipeline.`);
}

/** The validator's refusal as the 4xx it stands for; a promotion that finished meanwhile is a 409 too. */
function approvalRefused(err: unknown, promotionId: string): unknown {
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
    const failure = err.cause;
    if (failure.type === ApprovalRefusal.NotWaiting) return notWaiting(failure.message);
    if (failure.type === ApprovalRefusal.OwnModel) return new UserError('cannot_approve_own_model', failure.message, 403);
    if (failure.type === ApprovalRefusal.InvalidDecision) return new UserError('invalid_request', failure.message, 422, { field: 'decision' });
  }
  // The update reached a promotion that completed between our check and the update.
  if (err instanceof WorkflowNotFoundError) return notWaiting(`Promotion ${promotionId} has finished; there is nothing to decide.`);
  return err;
}

function notWaiting(message: string): UserError {
  return new UserError('not_waiting_for_approval', message, 409);
}
