import { and, eq } from 'drizzle-orm';
import { moveAliasIn } from '../../db/queries/aliases';
import { auditLog, models, modelAliases, modelVersions, type PromotionApproval } from '../../db/schema';
import { UserError } from '../../platform/user-error';
import type { RevertPromotionInput, RevertPromotionResult, SettlePromotionInput, SettlePromotionResult } from '../../workflows/contracts';
import { callingWorkflow } from '../calling-workflow';
import type { ActivityDeps } from '../deps';

export function createPromotionActivities(deps: ActivityDeps) {
  return {
    /**
     * Records a promotion's decision on the version and in the audit log and, when approved, moves the alias, all in
     * one transaction; a retry finds the decision of its own run and writes nothing twice.
     */
    async settlePromotion(input: SettlePromotionInput): Promise<SettlePromotionResult> {
      const { runId } = callingWorkflow();
      return deps.db.transaction(async (tx) => {
        const [version] = await tx
          .select({ id: modelVersions.id, modelId: modelVersions.modelId, approval: modelVersions.approval, projectId: models.projectId })
          .from(modelVersions)
          .innerJoin(models, eq(models.id, modelVersions.modelId))
          .where(eq(modelVersions.id, input.modelVersionId));
        if (version?.projectId !== input.projectId) {
          throw new UserError('model_version_not_found', `Model version ${input.modelVersionId} does not exist in this project.`, 404);
        }
        const approved = input.decision.decision === 'approved';
        let fromVersionId: string | null;
        if (approved) {
          const move = await moveAliasIn(tx, {
            projectId: input.projectId,
            modelId: version.modelId,
            alias: input.alias,
            toVersionId: input.modelVersionId,
            actor: input.decision.by,
            reason: input.reason,
            workflowId: input.workflowId,
            // The workflow id repeats per alias (one promotion at a time), so the run id makes each promotion's move its own.
            idempotencyKey: `${input.workflowId}/${runId}:${input.alias}`,
          });
          fromVersionId = move.fromVersionId;
        } else {
          const [current] = await tx
            .select({ modelVersionId: modelAliases.modelVersionId })
            .from(modelAliases)
            .where(and(eq(modelAliases.modelId, version.modelId), eq(modelAliases.alias, input.alias)));
          fromVersionId = current?.modelVersionId ?? null;
        }
        if (version.approval?.runId === runId) return { fromVersionId, toVersionId: input.modelVersionId };

        const approval: PromotionApproval = { ...input.decision, alias: input.alias, workflowId: input.workflowId, runId };
        await tx.update(modelVersions).set({ approval }).where(eq(modelVersions.id, input.modelVersionId));
        await tx.insert(auditLog).values({
          projectId: input.projectId,
          actor: input.decision.by,
          action: approved ? 'promotion.approved' : 'promotion.rejected',
          subjectType: 'model_version',
          subjectId: input.modelVersionId,
          details: { alias: input.alias, decision: input.decision.decision, reason: input.decision.reason, at: input.decision.at, workflowId: input.workflowId, runId, from: fromVersionId },
        });
        return { fromVersionId, toVersionId: input.modelVersionId };
      });
    },

    /**
     * A promotion whose canary was rolled back: `production` goes back to the version it moved from, unless someone has
     * moved it since (then theirs stands). One move per pipeline, however often the activity is retried.
     */
    async revertPromotion(input: RevertPromotionInput): Promise<RevertPromotionResult> {
      return deps.db.transaction(async (tx) => {
        const [version] = await tx
          .select({ modelId: modelVersions.modelId, projectId: models.projectId })
          .from(modelVersions)
          .innerJoin(models, eq(models.id, modelVersions.modelId))
          .where(eq(modelVersions.id, input.promotedVersionId));
        if (version?.projectId !== input.projectId) {
          throw new UserError('model_version_not_found', `Model version ${input.promotedVersionId} does not exist in this project.`, 404);
        }
        const idempotencyKey = `${input.workflowId}:revert:${input.alias}`;
        const [current] = await tx
          .select({ modelVersionId: modelAliases.modelVersionId })
          .from(modelAliases)
          .where(and(eq(modelAliases.modelId, version.modelId), eq(modelAliases.alias, input.alias)));
        if (current?.modelVersionId !== input.promotedVersionId) {
          // Already reverted by an earlier attempt, or moved by someone else since: either way not ours to move.
          return { reverted: false, aliasVersionId: current?.modelVersionId ?? null };
        }
        const move = await moveAliasIn(tx, {
          projectId: input.projectId,
          modelId: version.modelId,
          alias: input.alias,
          toVersionId: input.toVersionId,
          actor: `workflow:${input.workflowId}`,
          reason: input.reason,
          workflowId: input.workflowId,
          idempotencyKey,
        });
        return { reverted: move.moved, aliasVersionId: input.toVersionId };
      });
    },
  };
}
