import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { Hono } from 'hono';
import { z } from 'zod';
import { MODEL_ALIASES, type ModelAlias } from '../../db/schema';
import { auditPromotionAttempt, findPromotableVersion } from '../../db/queries/promotions';
import { checkVersionMayServe, recordOverride } from '../../db/queries/serving-guard';
import { checkedOverride, overrideRequest } from '../override-request';
import { UserError } from '../../platform/user-error';
import { promoteModel } from '../../workflows';
import { factorySearchAttributes, promotionWorkflowId, type PromoteInput } from '../../workflows/contracts';
import type { ApiDeps } from '../deps';
import type { ApiEnv } from '../env';
import { parseDuration } from '../../platform/duration';
import { answerOnce, idempotencyKeyOf, sha256Hex } from '../idempotency';
import { checkResourceName, parseJsonBody } from '../json-body';
import { requireRole } from '../middleware/api-key-auth';
import { temporalUiLink, workflowStatusPath } from '../workflow-links';

const promotionRequest = z
  .object({
    version: z.number().int().positive(),
    reason: z.string().trim().min(1).max(1000),
    /** May add approval to what the model's policy asks, never remove it. */
    requireApproval: z.boolean().optional(),
    approvalTimeout: z.string().default('24h'),
    override: overrideRequest.optional(),
  })
  .strict();

export function checkAlias(alias: string): ModelAlias {
  if (!(MODEL_ALIASES as readonly string[]).includes(alias)) {
    throw new UserError('unknown_alias', `There is no alias "${alias.slice(0, 40)}"; use one of ${MODEL_ALIASES.join(', ')}.`, 422, { field: 'alias' });
  }
  return alias as ModelAlias;
}

/** Mounted under /v1/models. */
export function promotionRoutes(deps: ApiDeps) {
  const app = new Hono<ApiEnv>();

  /** Starts promoteModel for this alias and answers 202; 409 with the running promotion's id while one runs. */
  app.post('/:name/aliases/:alias', requireRole('operator'), async (c) => {
    const idempotencyKey = idempotencyKeyOf(c);
    const modelName = checkResourceName('model', c.req.param('name'));
    const alias = checkAlias(c.req.param('alias'));
    const body = await parseJsonBody(c, promotionRequest);
    const approvalTimeoutMs = parseDuration(body.approvalTimeout, 'approvalTimeout');
    const auth = c.get('auth');
    const { projectId, keyId } = auth;
    const override = checkedOverride(auth, body.override);
    const target = await findPromotableVersion(deps.db, projectId, modelName, body.version);
    // Production: blessed and infra-validated (or overridden), and approval whenever the model's policy or the request asks.
    const guarded =
      alias === 'production'
        ? await checkVersionMayServe(deps.db, { projectId, modelVersionId: target.modelVersionId, target: { alias }, override: override !== null, requireApproval: body.requireApproval === true })
        : { requireApproval: body.requireApproval === true };
    const requireApproval = guarded.requireApproval;
    const workflowId = promotionWorkflowId(projectId, target.modelName, alias);
    const input: PromoteInput = {
      projectId,
      modelName: target.modelName,
      modelVersionId: target.modelVersionId,
      version: target.version,
      alias,
      reason: override ? `override by ${override.owner} (key ${keyId}): ${override.reason}; ${body.reason}` : body.reason,
      requestedBy: keyId,
      requireApproval,
      approvalTimeoutMs,
    };
    const attempt = { alias, version: target.version, reason: body.reason, requireApproval, workflowId, ...(override && { override: override.reason }) };
    const request = { key: idempotencyKey, route: `POST /v1/models/${modelName}/aliases/${alias}`, requestHash: sha256Hex(await c.req.text()) };
    return answerOnce(c, deps.db, request, async () => {
      let runId: string;
      try {
        const handle = await deps.temporal.workflow.start(promoteModel, {
          taskQueue: deps.taskQueues.cpu,
          workflowId,
          args: [input],
          memo: { projectId },
          typedSearchAttributes: factorySearchAttributes({ projectId, model: target.modelName }),
          staticSummary: `promote ${target.modelName} v${target.version} to ${alias}`,
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
          workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        });
        runId = handle.firstExecutionRunId;
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        await auditPromotionAttempt(deps.db, { projectId, actor: keyId, action: 'promotion.refused', modelVersionId: target.modelVersionId, details: { ...attempt, why: 'promotion_in_progress' } });
        throw new UserError(
          'promotion_in_progress',
          `A promotion of ${target.modelName}'s ${alias} alias is already running (workflow ${workflowId}); decide or wait for it, then try again.`,
          409,
          { workflowId },
        );
      }
      await auditPromotionAttempt(deps.db, { projectId, actor: keyId, action: 'promotion.requested', modelVersionId: target.modelVersionId, details: { ...attempt, runId } });
      if (override) await recordOverride(deps.db, { projectId, modelVersionId: target.modelVersionId, override: { ...override, alias, workflowId } });
      return {
        status: 202,
        body: { workflowId, runId, status: workflowStatusPath(workflowId), model: target.modelName, version: target.version, alias, requireApproval, ...(override && { override }), ...temporalUiLink(deps, workflowId) },
      };
    });
  });

  return app;
}
