import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { Hono } from 'hono';
import { z } from 'zod';
import { MODEL_ALIASES, type ModelAlias } from '../../db/schema';
import { auditPromotionAttempt, findPromotableVersion } from '../../db/queries/promotions';
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
    requireApproval: z.boolean().default(false),
    approvalTimeout: z.string().default('24h'),
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
    const { projectId, keyId } = c.get('auth');
    const target = await findPromotableVersion(deps.db, projectId, modelName, body.version);
    const workflowId = promotionWorkflowId(projectId, target.modelName, alias);
    const input: PromoteInput = {
      projectId,
      modelName: target.modelName,
      modelVersionId: target.modelVersionId,
      version: target.version,
      alias,
      reason: body.reason,
      requestedBy: keyId,
      requireApproval: body.requireApproval,
      approvalTimeoutMs,
    };
    const attempt = { alias, version: target.version, reason: body.reason, requireApproval: body.requireApproval, workflowId };
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
      return {
        status: 202,
        body: { workflowId, runId, status: workflowStatusPath(workflowId), model: target.modelName, version: target.version, alias, requireApproval: body.requireApproval, ...temporalUiLink(deps, workflowId) },
      };
    });
  });

  return app;
}
