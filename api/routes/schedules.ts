import { ScheduleAlreadyRunning, ScheduleNotFoundError, type ScheduleDescription, type ScheduleExecutionResult, type ScheduleSummary } from '@temporalio/client';
import { Hono, type Context } from 'hono';
import type { z } from 'zod';
import { findEndpointForMonitoring } from '../../db/queries/monitoring';
import { RETRAIN_WORKFLOW_TYPE, SCHEDULED_MONITOR_WORKFLOW_TYPE, type RetrainInput } from '../../domain/retrain';
import { UserError } from '../../platform/user-error';
import type { ScheduledMonitorInput } from '../../workflows/scheduled-monitor';
import { factorySearchAttributes } from '../../workflows/contracts';
import type { ApiDeps } from '../deps';
import type { ApiEnv } from '../env';
import { answerOnce, idempotencyKeyOf, sha256Hex } from '../idempotency';
import { checkResourceName, parseJsonBody } from '../json-body';
import { requireRole } from '../middleware/api-key-auth';
import {
  backfillRequest,
  checkBackfillRange,
  checkScheduleRequest,
  createScheduleRequest,
  invalidCron,
  noteRequest,
  OVERLAP_POLICIES,
  triggerRequest,
  type CheckedSchedule,
  type ScheduleDefinition,
} from '../schedule-request';
import { backfillSchedule, triggerSchedule } from '../schedule-patch';
import { workflowStatusPath } from '../workflow-links';

/** Schedule ids carry the project (ids have no '-'), so one project cannot name, and so touch, another's schedule. */
export function scheduleIdOf(projectId: string, name: string): string {
  return `schedule-${projectId}-${name}`;
}

/**
 * Recurring monitors and retrains of an endpoint as real Temporal Schedules (visible and operable in the
 * Temporal UI); Temporal is their only store. Mounted under /v1/schedules.
 */
export function scheduleRoutes(deps: ApiDeps) {
  const app = new Hono<ApiEnv>();
  const handleOf = (projectId: string, name: string) => deps.temporal.schedule.getHandle(scheduleIdOf(projectId, name));

  /** The schedule of this project with this name, with its definition; 404 otherwise. */
  async function describeOwned(projectId: string, rawName: string): Promise<{ description: ScheduleDescription; definition: ScheduleDefinition }> {
    const name = checkResourceName('schedule', rawName);
    let description: ScheduleDescription;
    try {
      description = await handleOf(projectId, name).describe();
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) throw scheduleNotFound(name);
      throw err;
    }
    const definition = description.memo?.schedule as ScheduleDefinition | undefined;
    if (definition?.projectId !== projectId) throw scheduleNotFound(name);
    return { description, definition };
  }

  function view(definition: ScheduleDefinition, from: Pick<ScheduleSummary, 'state' | 'info'>) {
    const scheduleId = scheduleIdOf(definition.projectId, definition.name);
    return {
      name: definition.name,
      scheduleId,
      action: definition.action,
      spec: definition.spec,
      overlap: definition.overlap,
      catchupWindow: definition.catchupWindow,
      paused: from.state.paused,
      note: from.state.note ?? null,
      nextRuns: from.info.nextActionTimes.map((t) => t.toISOString()),
      recentActions: from.info.recentActions.map(actionView),
      links: {
        self: `/v1/schedules/${definition.name}`,
        ...(deps.temporalUiUrl ? { temporalUi: `${deps.temporalUiUrl}/namespaces/${deps.temporalNamespace}/schedules/${encodeURIComponent(scheduleId)}` } : {}),
      },
    };
  }

  function detailedView(description: ScheduleDescription, definition: ScheduleDefinition) {
    return {
      ...view(definition, description),
      runningWorkflowIds: description.info.runningActions.map((a) => a.workflow.workflowId),
      actionsTaken: description.info.numActionsTaken,
      actionsSkippedOverlap: description.info.numActionsSkippedOverlap,
      actionsMissedCatchupWindow: description.info.numActionsMissedCatchupWindow,
      createdAt: description.info.createdAt.toISOString(),
    };
  }

  app.get('/', async (c) => {
    const { projectId } = c.get('auth');
    const schedules: ReturnType<typeof view>[] = [];
    // Listing reads Temporal's visibility store, which follows a create or delete within a moment.
    for await (const summary of deps.temporal.schedule.list({ query: `FactoryProject = '${projectId}'` })) {
      const definition = summary.memo?.schedule as ScheduleDefinition | undefined;
      if (definition?.projectId !== projectId || summary.scheduleId !== scheduleIdOf(projectId, definition.name)) continue;
      schedules.push(view(definition, summary));
    }
    schedules.sort((a, b) => a.name.localeCompare(b.name));
    return c.json({ schedules });
  });

  app.get('/:name', async (c) => {
    const { description, definition } = await describeOwned(c.get('auth').projectId, c.req.param('name'));
    return c.json(detailedView(description, definition));
  });

  app.post('/', requireRole('operator'), async (c) => {
    const { projectId, keyId } = c.get('auth');
    const body = await parseJsonBody(c, createScheduleRequest);
    const checked = checkScheduleRequest(projectId, body);
    const { definition } = checked;
    const endpoint = await findEndpointForMonitoring(deps.db, projectId, definition.action.endpoint);
    const scheduleId = scheduleIdOf(projectId, definition.name);
    try {
      await deps.temporal.schedule.create({
        scheduleId,
        spec: checked.spec,
        action: scheduleAction(deps, checked, endpoint.name),
        policies: { overlap: OVERLAP_POLICIES[definition.overlap], catchupWindow: checked.catchupWindowMs },
        memo: { schedule: definition, createdBy: keyId },
        typedSearchAttributes: factorySearchAttributes({ projectId, endpoint: endpoint.name }),
        state: { paused: body.paused, note: body.note ?? `created by API key ${keyId}` },
      });
    } catch (err) {
      if (err instanceof ScheduleAlreadyRunning) {
        throw new UserError('schedule_exists', `A schedule named "${definition.name}" exists already in this project; delete it first or choose another name.`, 409, { field: 'name' });
      }
      // Temporal's own spec validation has the last word on a cron expression: the client throws its InvalidArgument as a TypeError.
      if (err instanceof TypeError && 'cron' in definition.spec) throw invalidCron(definition.spec.cron, err.message);
      throw err;
    }
    const { description } = await describeOwned(projectId, definition.name);
    c.header('Location', `/v1/schedules/${definition.name}`);
    return c.json(detailedView(description, definition), 201);
  });

  for (const verb of ['pause', 'unpause'] as const) {
    app.post(`/:name/${verb}`, requireRole('operator'), async (c) => {
      const { projectId, keyId } = c.get('auth');
      const { definition } = await describeOwned(projectId, c.req.param('name'));
      const body = await optionalBody(c, noteRequest);
      const note = body.note ?? `${verb}d by API key ${keyId}`;
      const handle = handleOf(projectId, definition.name);
      await (verb === 'pause' ? handle.pause(note) : handle.unpause(note));
      const { description } = await describeOwned(projectId, definition.name);
      return c.json(detailedView(description, definition));
    });
  }

  /**
   * Starts one run now (its window ends now); the run shows in recentActions within a moment. A retry with
   * the same Idempotency-Key gets the first answer and starts nothing more.
   */
  app.post('/:name/trigger', requireRole('operator'), async (c) => {
    const key = idempotencyKeyOf(c);
    const { projectId } = c.get('auth');
    const { definition } = await describeOwned(projectId, c.req.param('name'));
    const body = await optionalBody(c, triggerRequest);
    const request = { key, route: `POST /v1/schedules/${definition.name}/trigger`, requestHash: sha256Hex(await c.req.text()) };
    return answerOnce(c, deps.db, request, async () => {
      await triggerSchedule(deps.temporal, scheduleIdOf(projectId, definition.name), { requestId: patchRequestId(projectId, key), overlap: body.overlap && OVERLAP_POLICIES[body.overlap] });
      return { status: 202, body: { name: definition.name, triggered: true, links: { schedule: `/v1/schedules/${definition.name}` } } };
    });
  });

  /** Starts the runs that were due in [from, to], each for the window it was due for; once per Idempotency-Key. */
  app.post('/:name/backfill', requireRole('operator'), async (c) => {
    const key = idempotencyKeyOf(c);
    const { projectId } = c.get('auth');
    const { definition } = await describeOwned(projectId, c.req.param('name'));
    const body = await parseJsonBody(c, backfillRequest);
    const { from, to } = checkBackfillRange(body, definition);
    const request = { key, route: `POST /v1/schedules/${definition.name}/backfill`, requestHash: sha256Hex(await c.req.text()) };
    return answerOnce(c, deps.db, request, async () => {
      await backfillSchedule(deps.temporal, scheduleIdOf(projectId, definition.name), { requestId: patchRequestId(projectId, key), start: from, end: to, overlap: OVERLAP_POLICIES[body.overlap] });
      return {
        status: 202,
        body: { name: definition.name, backfill: { from: from.toISOString(), to: to.toISOString(), overlap: body.overlap }, links: { schedule: `/v1/schedules/${definition.name}` } },
      };
    });
  });

  /** Deletes the schedule; runs it started keep running. */
  app.delete('/:name', requireRole('operator'), async (c) => {
    const { projectId } = c.get('auth');
    const { definition } = await describeOwned(projectId, c.req.param('name'));
    try {
      await handleOf(projectId, definition.name).delete();
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) throw scheduleNotFound(definition.name);
      throw err;
    }
    return c.body(null, 204);
  });

  return app;
}

/** The workflow each run starts: scheduledMonitor over the window due, or retrainEndpoint; both carry the project so the API and UI find them. */
function scheduleAction(deps: ApiDeps, checked: CheckedSchedule, endpointName: string) {
  const { projectId, name, action } = checked.definition;
  const common = {
    type: 'startWorkflow' as const,
    taskQueue: deps.taskQueues.cpu,
    memo: { projectId, schedule: name },
    typedSearchAttributes: factorySearchAttributes({ projectId, endpoint: endpointName }),
  };
  if (action.type === 'monitor') {
    const input: ScheduledMonitorInput = { projectId, endpointName, scheduleName: name, windowMs: checked.windowMs ?? 0 };
    // Temporal appends each run's scheduled time to this id.
    return { ...common, workflowType: SCHEDULED_MONITOR_WORKFLOW_TYPE, workflowId: `scheduled-monitor-${name}-${projectId}`, args: [input], staticSummary: `schedule ${name}: monitor ${endpointName}` };
  }
  const input: RetrainInput = { projectId, endpointName, trigger: { kind: 'schedule', scheduleName: name } };
  return { ...common, workflowType: RETRAIN_WORKFLOW_TYPE, workflowId: `scheduled-retrain-${name}-${projectId}`, args: [input], staticSummary: `schedule ${name}: retrain ${endpointName}` };
}

/** Bodies that may be left out entirely (pause, unpause, trigger): empty means `{}`. */
async function optionalBody<S extends Parameters<typeof parseJsonBody>[1]>(c: Context<ApiEnv>, schema: S): Promise<z.infer<S>> {
  const text = await c.req.text();
  if (text.trim() === '') return schema.parse({});
  return parseJsonBody(c, schema);
}

function actionView(a: ScheduleExecutionResult) {
  return { scheduledAt: a.scheduledAt.toISOString(), takenAt: a.takenAt.toISOString(), workflowId: a.action.workflow.workflowId, runId: a.action.workflow.firstExecutionRunId, links: { status: workflowStatusPath(a.action.workflow.workflowId) } };
}

/** With an Idempotency-Key, the patch's request id is derived from it, so a retry that runs again (the first crashed before answering) is dropped by Temporal. */
function patchRequestId(projectId: string, key: string | undefined): string | undefined {
  return key === undefined ? undefined : `idempotency-${sha256Hex(projectId, key).slice(0, 32)}`;
}

function scheduleNotFound(name: string): UserError {
  return new UserError('schedule_not_found', `There is no schedule "${name.slice(0, 80)}" in this project; GET /v1/schedules lists them.`, 404, { field: 'name' });
}
