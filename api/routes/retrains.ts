import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { Hono } from 'hono';
import { findEndpointForMonitoring } from '../../db/queries/monitoring';
import { listRetrains, readRetrainBaseRows, runningRetrainOf, type RetrainRun } from '../../db/queries/retrains';
import type { RetrainInput } from '../../domain/retrain';
import { UserError } from '../../platform/user-error';
import { retrainEndpoint } from '../../workflows';
import { factorySearchAttributes } from '../../workflows/contracts';
import type { ApiDeps } from '../deps';
import type { ApiEnv } from '../env';
import { answerOnce, idempotencyKeyOf, sha256Hex } from '../idempotency';
import { checkResourceName } from '../json-body';
import { requireRole } from '../middleware/api-key-auth';
import { temporalUiLink, workflowStatusPath } from '../workflow-links';

function describeRun(run: RetrainRun) {
  return {
    workflowId: run.workflowId,
    status: run.status,
    episode: run.episode,
    attempt: run.attempt,
    maxAttempts: run.maxAttempts,
    // A failed attempt with attempts left: from when the next alarm of the episode may start the next one.
    nextAttemptAt: run.retryAt?.toISOString() ?? null,
    lastError: run.outcome?.error ?? null,
    trigger: run.trigger,
    pipelineWorkflowId: run.pipelineWorkflowId,
    datasetVersionId: run.datasetVersionId,
    modelVersionId: run.modelVersionId,
    outcome: run.outcome,
    startedAt: run.startedAt.toISOString(),
    finishedAt: run.finishedAt?.toISOString() ?? null,
    links: { status: workflowStatusPath(run.workflowId) },
  };
}

/** Retraining of an endpoint's model; mounted under /v1/endpoints. */
export function retrainRoutes(deps: ApiDeps) {
  const app = new Hono<ApiEnv>();

  /**
   * A manual retrain (its own episode): 202 with the workflow id; 409 while another retrain of the model runs.
   * A retry with the same Idempotency-Key gets the first answer, even while the retrain it started runs.
   */
  app.post('/:name/retrain', requireRole('operator'), async (c) => {
    const key = idempotencyKeyOf(c);
    const { projectId, keyId } = c.get('auth');
    const endpoint = await findEndpointForMonitoring(deps.db, projectId, checkResourceName('endpoint', c.req.param('name')));
    // With an Idempotency-Key the request id, and so the workflow id, is the same on every retry of the request.
    const requestId = key === undefined ? randomUUID().slice(0, 8) : sha256Hex(projectId, key).slice(0, 16);
    const workflowId = `retrain-${endpoint.name}-manual-${requestId}`;
    const request = { key, route: `POST /v1/endpoints/${endpoint.name}/retrain`, requestHash: sha256Hex(await c.req.text()) };
    return answerOnce(c, deps.db, request, async () => {
      const base = await readRetrainBaseRows(deps.db, endpoint.id);
      if (!base) throw new UserError('nothing_to_retrain', `Endpoint ${endpoint.name} serves no stable version; deploy a model before retraining it.`, 409, { field: 'name' });
      const running = await runningRetrainOf(deps.db, base.version.modelId);
      // The running retrain may be this request's own, started by a try that crashed before it answered.
      if (running && running.workflowId !== workflowId) {
        throw new UserError('retrain_running', `Retrain ${running.workflowId} of ${base.version.modelName} is running; wait for it (GET /v1/endpoints/${endpoint.name}/retrains) and ask again.`, 409, {
          workflowId: running.workflowId,
        });
      }
      const input: RetrainInput = { projectId, endpointName: endpoint.name, trigger: { kind: 'manual', requestedBy: keyId } };
      const links = { status: workflowStatusPath(workflowId), retrains: `/v1/endpoints/${encodeURIComponent(endpoint.name)}/retrains`, ...temporalUiLink(deps, workflowId) };
      try {
        await deps.temporal.workflow.start(retrainEndpoint, {
          taskQueue: deps.taskQueues.cpu,
          workflowId,
          args: [input],
          memo: { projectId },
          typedSearchAttributes: factorySearchAttributes({ projectId, model: base.version.modelName, endpoint: endpoint.name }),
          staticSummary: `retrain ${base.version.modelName} on ${endpoint.name} (manual)`,
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
      return { status: 202, body: { workflowId, episode: `manual:${workflowId}`, model: base.version.modelName, links } };
    });
  });

  /** The endpoint's retrain claims, newest first: status, trigger, episode, pipeline and the version it made. */
  app.get('/:name/retrains', async (c) => {
    const endpoint = await findEndpointForMonitoring(deps.db, c.get('auth').projectId, checkResourceName('endpoint', c.req.param('name')));
    const runs = await listRetrains(deps.db, endpoint.id);
    return c.json({ endpoint: endpoint.name, retrains: runs.map(describeRun) });
  });

  return app;
}
