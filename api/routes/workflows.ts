import { WorkflowNotFoundError, type WorkflowExecutionDescription } from '@temporalio/client';
import { Hono } from 'hono';
import { UserError } from '../../platform/user-error';
import { pipelineStatusQuery, type PipelineStatus } from '../../workflows/contracts';
import type { ApiDeps } from '../deps';
import type { ApiEnv } from '../env';
import { rootCauseMessage, userErrorFromFailure } from '../temporal-errors';

export function workflowRoutes(deps: ApiDeps) {
  const app = new Hono<ApiEnv>();

  /** Status, live progress (a query) and the result or failure of a workflow this project started. */
  app.get('/:id{.+}', async (c) => {
    const workflowId = c.req.param('id');
    const handle = deps.temporal.workflow.getHandle(workflowId);
    let description: WorkflowExecutionDescription;
    try {
      description = await handle.describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw notFound(workflowId);
      throw err;
    }
    if (description.memo?.projectId !== c.get('auth').projectId) throw notFound(workflowId);

    const status = description.status.name;
    let progress: PipelineStatus | undefined;
    if (description.type === 'factoryPipeline') {
      progress = await handle.query(pipelineStatusQuery).catch(() => undefined);
    }
    let result: unknown;
    let error: Record<string, unknown> | undefined;
    if (status === 'COMPLETED') result = await handle.result();
    if (status === 'FAILED') {
      const failure = await handle.result().then(
        () => undefined,
        (err: unknown) => err,
      );
      const userError = userErrorFromFailure(failure);
      error = userError ? { code: userError.code, message: userError.message, ...userError.details } : { code: 'workflow_failed', message: rootCauseMessage(failure) };
    }
    return c.json({
      workflowId,
      runId: description.runId,
      type: description.type,
      status,
      startTime: description.startTime,
      closeTime: description.closeTime ?? null,
      ...(progress && { progress }),
      ...(result !== undefined && { result }),
      ...(error && { error }),
      ...(deps.temporalUiUrl && { temporalUi: `${deps.temporalUiUrl}/namespaces/${deps.temporalNamespace}/workflows/${encodeURIComponent(workflowId)}` }),
    });
  });

  return app;
}

function notFound(workflowId: string): UserError {
  return new UserError('workflow_not_found', `No workflow "${workflowId.slice(0, 120)}" belongs to this project.`, 404);
}
