import { ApplicationFailure, condition, patched, proxyActivities, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { databaseActivityOptions } from './activity-options';
import {
  approvalUpdate,
  ApprovalRefusal,
  promotionStatusQuery,
  type ApprovalDecisionInput,
  type PromoteInput,
  type PromoteResult,
  type PromotionDecision,
  type PromotionStatus,
} from './contracts';
import { publishRegistryEvent } from './registry-events';

/** Guards the promotion events, so promotions recorded before they existed replay. */
export const PROMOTION_EVENTS_PATCH = 'promotion-registry-events';

const { settlePromotion } = proxyActivities<Activities>(databaseActivityOptions);

/**
 * Moves a model's alias to a version: at once, or after a human approves through the `approval` Update. No decision
 * within the timeout is a rejection. The decision lands on the version and in the audit log either way.
 */
export async function promoteModel(input: PromoteInput): Promise<PromoteResult> {
  const { workflowId } = workflowInfo();
  const status: PromotionStatus = {
    state: input.requireApproval ? 'waiting_for_approval' : 'moving',
    modelName: input.modelName,
    version: input.version,
    alias: input.alias,
    requestedBy: input.requestedBy,
    waitingSince: input.requireApproval ? new Date().toISOString() : null,
    decision: null,
  };
  setHandler(promotionStatusQuery, () => status);
  setHandler(
    approvalUpdate,
    (decided) => {
      status.decision = { decision: decided.decision === 'approve' ? 'approved' : 'rejected', by: decided.by, reason: decided.reason, at: new Date().toISOString() };
      return status.decision;
    },
    { validator: (decided: ApprovalDecisionInput) => validateDecision(status, decided) },
  );

  if (input.requireApproval) {
    // Shown by the Temporal UI ("current details") and returned by the status query.
    setCurrentDetails(`waiting for approval since ${status.waitingSince} to make ${input.modelName} v${input.version} ${input.alias} (requested by ${input.requestedBy})`);
    const decided = await condition(() => status.decision !== null, input.approvalTimeoutMs);
    if (!decided) {
      status.decision = { decision: 'rejected', by: 'timeout', reason: `no decision within ${input.approvalTimeoutMs} ms`, at: new Date().toISOString() };
    }
  } else {
    status.decision = { decision: 'approved', by: input.requestedBy, reason: `no approval required: ${input.reason}`, at: new Date().toISOString() };
  }
  const decision: PromotionDecision = status.decision ?? unreachable();
  const promoted = decision.decision === 'approved';
  status.state = promoted ? 'moving' : 'rejected';
  setCurrentDetails(promoted ? `${decision.decision} by ${decision.by}: moving ${input.alias}` : `rejected by ${decision.by}: ${decision.reason}`);

  const settled = await settlePromotion({
    projectId: input.projectId,
    modelVersionId: input.modelVersionId,
    alias: input.alias,
    decision,
    reason: promoted ? `${input.reason} (approved by ${decision.by}: ${decision.reason})` : decision.reason,
    workflowId,
  });
  if (promoted) {
    status.state = 'promoted';
    setCurrentDetails(`${input.modelName} v${input.version} is ${input.alias}`);
  }
  if (patched(PROMOTION_EVENTS_PATCH)) await publishPromotionEvents(input, decision, settled, workflowId);
  return { promoted, decision, fromVersionId: settled.fromVersionId, toVersionId: settled.toVersionId };
}

/** Tells the project's webhooks what was decided and, when it moved, where the alias points now. */
async function publishPromotionEvents(
  input: PromoteInput,
  decision: PromotionDecision,
  settled: { fromVersionId: string | null; toVersionId: string | null },
  workflowId: string,
): Promise<void> {
  const { runId } = workflowInfo();
  const base = { projectId: input.projectId, occurredAt: new Date().toISOString(), model: { name: input.modelName, version: input.version, versionId: input.modelVersionId } };
  const decided = { alias: input.alias, by: decision.by, reason: decision.reason, requestedBy: input.requestedBy, workflowId };
  const promoted = decision.decision === 'approved';
  await publishRegistryEvent({ ...base, id: `${promoted ? 'promotion.approved' : 'promotion.rejected'}:${runId}`, type: promoted ? 'promotion.approved' : 'promotion.rejected', data: decided });
  if (promoted) {
    await publishRegistryEvent({
      ...base,
      id: `model_alias.promoted:${runId}`,
      type: 'model_alias.promoted',
      data: { alias: input.alias, fromVersionId: settled.fromVersionId, toVersionId: settled.toVersionId, workflowId },
    });
  }
}

/** Refuses a decision the promotion cannot take; the API turns each failure type into its 4xx. */
function validateDecision(status: PromotionStatus, decided: ApprovalDecisionInput): void {
  if (status.state !== 'waiting_for_approval' || status.decision !== null) {
    throw ApplicationFailure.create({
      type: ApprovalRefusal.NotWaiting,
      message: status.decision ? `This promotion was already ${status.decision.decision} by ${status.decision.by}.` : 'This promotion does not wait for an approval.',
      nonRetryable: true,
    });
  }
  if (decided?.decision !== 'approve' && decided?.decision !== 'reject') {
    throw ApplicationFailure.create({ type: ApprovalRefusal.InvalidDecision, message: 'The decision must be "approve" or "reject".', nonRetryable: true });
  }
  if (decided.by === status.requestedBy) {
    throw ApplicationFailure.create({
      type: ApprovalRefusal.OwnModel,
      message: 'The API key that requested this promotion may not decide it; ask another admin or approver (four eyes).',
      nonRetryable: true,
    });
  }
}

function unreachable(): never {
  throw ApplicationFailure.create({ type: 'Unreachable', message: 'a promotion ended its wait without a decision', nonRetryable: true });
}
