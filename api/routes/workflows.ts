import { WorkflowNotFoundError, type WorkflowExecutionDescription, type WorkflowExecutionInfo } from '@temporalio/client';
// The decoder client.workflow.list() uses; list() itself hides the page token the API hands out.
import { executionInfoFromRaw } from '@temporalio/client/lib/helpers';
import { Hono } from 'hono';
import { UserError } from '../../platform/user-error';
import {
  endpointStatusQuery,
  FactoryProject,
  pipelineStatusQuery,
  promotionStatusQuery,
  retrainStatusQuery,
  type ControllerStatus,
  type PipelineStatus,
  type PromotionStatus,
  type RetrainStatus,
} from '../../workflows/contracts';
import type { ApiDeps } from '../deps';
import type { ApiEnv } from '../env';
import { rootCauseMessage, userErrorFromFailure } from '../temporal-errors';
import { encodePageToken, workflowListRequest } from '../workflow-filters';
import { newestFirstPage, type ListedExecution, type VisibilityList } from '../workflow-pages';
import { temporalUiLink } from '../workflow-links';

export function workflowRoutes(deps: ApiDeps) {
  const app = new Hono<ApiEnv>();

  /** The project's workflows (pipelines, their stages, ingests), filtered through Temporal visibility, newest first by start time. */
  app.get('/', async (c) => {
    const request = workflowListRequest(c.get('auth').projectId, c.req.query());
    const { loadedDataConverter } = deps.temporal.workflow.options;
    const list: VisibilityList<ListedExecution & { info: WorkflowExecutionInfo }> = async (query, pageSize, token) => {
      const response = await deps.temporal.workflowService.listWorkflowExecutions({ namespace: deps.temporalNamespace, query, pageSize, nextPageToken: token });
      const infos = await Promise.all(response.executions.map((raw) => executionInfoFromRaw(raw, loadedDataConverter, raw, deps.temporalNamespace)));
      return { executions: infos.map((info) => ({ info, startMs: info.startTime.getTime(), workflowId: info.workflowId, runId: info.runId })), nextPageToken: response.nextPageToken ?? undefined };
    };
    const { page, next } = await newestFirstPage(list, request.query, request.pageSize, request.after, Date.now());
    return c.json({ workflows: page.map((e) => summary(e.info)), nextPageToken: encodePageToken(request.query, next) });
  });

  /** Status, live progress (a query) and the result or failure of a workflow this project started. */
  app.get('/:id{.+}', async (c) => {
    const workflowId = c.req.param('id');
    const handle = deps.temporal.workflow.getHandle(workflowId);
    const description = await describeOwnedWorkflow(deps, c.get('auth').projectId, workflowId);

    const status = description.status.name;
    let progress: PipelineStatus | PromotionStatus | ControllerStatus | RetrainStatus | undefined;
    if (description.type === 'factoryPipeline') {
      progress = await handle.query(pipelineStatusQuery).catch(() => undefined);
    }
    if (description.type === 'promoteModel') {
      progress = await handle.query(promotionStatusQuery).catch(() => undefined);
    }
    if (description.type === 'retrainEndpoint') {
      progress = await handle.query(retrainStatusQuery).catch(() => undefined);
    }
    if (description.type === 'endpointController' && status === 'RUNNING') {
      progress = await handle.query(endpointStatusQuery).catch(() => undefined);
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
      ...temporalUiLink(deps, workflowId),
    });
  });

  return app;
}

/** A workflow of this project, described; any other (or none) is the same 404, so ids of other projects leak nothing. */
export async function describeOwnedWorkflow(deps: Pick<ApiDeps, 'temporal'>, projectId: string, workflowId: string): Promise<WorkflowExecutionDescription> {
  let description: WorkflowExecutionDescription;
  try {
    description = await deps.temporal.workflow.getHandle(workflowId).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw workflowNotFound(workflowId);
    throw err;
  }
  if (ownerProject(description) !== projectId) throw workflowNotFound(workflowId);
  return description;
}

/** The project a workflow belongs to: its search attribute, or the memo of runs started before search attributes. */
export function ownerProject(info: Pick<WorkflowExecutionInfo, 'typedSearchAttributes' | 'memo'>): unknown {
  return info.typedSearchAttributes.get(FactoryProject) ?? info.memo?.projectId;
}

function summary(info: WorkflowExecutionInfo) {
  return {
    workflowId: info.workflowId,
    runId: info.runId,
    type: info.type,
    status: info.status.name,
    startTime: info.startTime,
    closeTime: info.closeTime ?? null,
    ...(info.parentExecution && { parent: info.parentExecution.workflowId }),
  };
}

export function workflowNotFound(workflowId: string): UserError {
  return new UserError('workflow_not_found', `No workflow "${workflowId.slice(0, 120)}" belongs to this project.`, 404);
}
