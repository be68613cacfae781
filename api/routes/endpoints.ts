import { versionNamesByIds } from '../../db/queries/models';
import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation, WorkflowNotFoundError } from '@temporalio/client';
import { and, asc, desc, eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { endpointEvents, endpoints, MODEL_ALIASES, modelAliases, models, modelVersions } from '../../db/schema';
import { findPromotableVersion } from '../../db/queries/promotions';
import { checkVersionMayServe, endpointOverrides, recordOverride } from '../../db/queries/serving-guard';
import { checkedOverride, overrideRequest } from '../override-request';
import { UserError } from '../../platform/user-error';
import { endpointController } from '../../workflows';
import {
  abortUpdate,
  deployUpdate,
  endpointControllerStartOptions,
  endpointControllerWorkflowId,
  endpointStatusQuery,
  pauseUpdate,
  promoteNowUpdate,
  resumeUpdate,
  rollbackUpdate,
  RolloutRefusal,
  type ActionRequest,
  type ControllerActionResult,
  type DeployRequest,
  type RolloutState,
  type VersionRef,
} from '../../workflows/contracts';
import { checkedRollout, refusal, rolloutStrategyFields, strategyOf } from '../rollout-request';
import type { ApiDeps } from '../deps';
import type { ApiEnv } from '../env';
import { ROUTING_KEY_HEADER } from '../routing-key';
import { answerOnce, idempotencyKeyOf, sha256Hex } from '../idempotency';
import { checkResourceName, parseJsonBody, readJsonBody, RESOURCE_NAME } from '../json-body';
import { predictRecords } from '../predict-request';
import { requireRole } from '../middleware/api-key-auth';
import { temporalUiLink, workflowStatusPath } from '../workflow-links';

const rolloutRequest = z
  .object({
    model: z.string().regex(RESOURCE_NAME, "use lowercase letters, digits, '.', '_' or '-'"),
    version: z.number().int().positive().optional(),
    alias: z.enum(MODEL_ALIASES).optional(),
    ...rolloutStrategyFields,
    reason: z.string().trim().min(1).max(1000).optional(),
    override: overrideRequest.optional(),
  })
  .strict();

const actionRequest = z.object({ reason: z.string().trim().min(1).max(1000).optional() }).strict();

/** A controller whose worker is down cannot answer its query; GET answers from the database instead of waiting. */
const CONTROLLER_QUERY_DEADLINE_MS = 3000;

const ACTIONS = { pause: pauseUpdate, resume: resumeUpdate, abort: abortUpdate, promote: promoteNowUpdate } as const;

export function endpointRoutes(deps: ApiDeps) {
  const app = new Hono<ApiEnv>();

  app.post('/:name/predict', requireRole('operator'), async (c) => {
    const records = predictRecords(await readJsonBody(c));
    const routingKey = c.req.header(ROUTING_KEY_HEADER);
    return c.json(await deps.predictor.predict(c.get('auth').projectId, c.req.param('name'), records, { routingKey, requestId: c.get('requestId') }));
  });

  /** The project's endpoints with where their traffic goes. */
  app.get('/', async (c) => {
    const rows = await deps.db.select().from(endpoints).where(eq(endpoints.projectId, c.get('auth').projectId)).orderBy(asc(endpoints.name));
    const refs = await versionNamesByIds(deps.db, rows.flatMap((r) => [r.stableVersionId, r.canaryVersionId, r.shadowVersionId]));
    return c.json({
      endpoints: rows.map((r) => ({
        name: r.name,
        status: r.status,
        ...traffic(r, refs),
        rollout: r.rollout ? { rolloutId: r.rollout.rolloutId, status: r.rollout.status, strategy: r.rollout.strategy, step: r.rollout.step + 1, steps: r.rollout.steps } : null,
        updatedAt: r.updatedAt,
      })),
    });
  });

  /** Traffic from the database, the running rollout (step, gate readings) from the controller, and the endpoint's events. */
  app.get('/:name', async (c) => {
    const { projectId } = c.get('auth');
    const workflowId = endpointControllerWorkflowId(projectId, c.req.param('name'));
    // Live details from the controller when it answers soon; else the summary its last change left on the row.
    // Asked before the row is read: the controller commits a traffic change before its state says so, so a rollout
    // the answer shows as ended never comes with the traffic from before its end.
    const live = await deps.temporal
      .withDeadline(Date.now() + CONTROLLER_QUERY_DEADLINE_MS, () => deps.temporal.workflow.getHandle(workflowId).query(endpointStatusQuery))
      .catch(() => undefined);
    const endpoint = await findEndpoint(deps, projectId, c.req.param('name'));
    const events = await deps.db.select().from(endpointEvents).where(eq(endpointEvents.endpointId, endpoint.id)).orderBy(desc(endpointEvents.createdAt)).limit(50);
    const refs = await versionNamesByIds(deps.db, [endpoint.stableVersionId, endpoint.canaryVersionId, endpoint.shadowVersionId, ...events.flatMap((e) => [e.fromVersionId, e.toVersionId])]);
    const rollout = live?.rollout ? rolloutView(live.rollout) : endpoint.rollout ? { ...endpoint.rollout, step: endpoint.rollout.step + 1, gates: [] } : null;
    return c.json({
      name: endpoint.name,
      status: endpoint.status,
      ...traffic(endpoint, refs),
      rollout,
      // Whether rollout details came from the controller (live) or the endpoint row's last summary.
      rolloutSource: live ? 'controller' : 'database',
      controller: live ? { workflowId, lastGood: live.lastGood.map(short), history: live.history.slice(-20) } : null,
      // Why the last deploy failed (the stable version keeps serving meanwhile); null once a deploy succeeds.
      failure: endpoint.failureCause ? { ...endpoint.failureCause, at: endpoint.updatedAt } : null,
      stableVersionId: endpoint.stableVersionId,
      canaryVersionId: endpoint.canaryVersionId,
      canaryWeight: endpoint.canaryWeight,
      shadowVersionId: endpoint.shadowVersionId,
      // Admin overrides of the serving guard used on this endpoint, newest first.
      overrides: await endpointOverrides(deps.db, projectId, endpoint.name),
      events: events.map((e) => ({
        kind: e.kind,
        from: e.fromVersionId,
        to: e.toVersionId,
        fromVersion: e.fromVersionId ? short(refs.get(e.fromVersionId)) : null,
        toVersion: e.toVersionId ? short(refs.get(e.toVersionId)) : null,
        trafficWeight: e.trafficWeight,
        reason: e.reason,
        at: e.createdAt,
      })),
    });
  });

  /** Starts a rollout through the endpoint's controller (started with it when it is not running); 409 while another runs. */
  app.post('/:name/rollouts', requireRole('operator'), async (c) => {
    const idempotencyKey = idempotencyKeyOf(c);
    const name = checkResourceName('endpoint', c.req.param('name'));
    const body = await parseJsonBody(c, rolloutRequest);
    const auth = c.get('auth');
    const { projectId, keyId } = auth;
    const override = checkedOverride(auth, body.override);
    const candidate = await resolveCandidate(deps, projectId, body);
    const strategy = strategyOf(body);
    const steps = checkedRollout(strategy, body.gates);
    // Blessed, infra-validated, not refused, approved where the policy asks; else 409 naming what is missing.
    await checkVersionMayServe(deps.db, { projectId, modelVersionId: candidate.versionId, target: { endpoint: name }, override: override !== null });
    if (strategy.type !== 'allAtOnce') {
      // Checked here too, so a refused first rollout does not leave a controller running for an endpoint that does not exist.
      const [existing] = await deps.db.select({ stable: endpoints.stableVersionId }).from(endpoints).where(and(eq(endpoints.projectId, projectId), eq(endpoints.name, name)));
      if (!existing?.stable) {
        throw new UserError(RolloutRefusal.NoStableVersion, `Endpoint ${name} has no stable version to compare a ${strategy.type} candidate with; deploy one with the allAtOnce strategy first.`, 422, {
          field: 'strategy',
        });
      }
    }
    const rolloutId = idempotencyKey === undefined ? `ro-${randomUUID().slice(0, 12)}` : `ro-${sha256Hex(projectId, idempotencyKey).slice(0, 12)}`;
    const reason = body.reason ?? `rollout requested by ${keyId}`;
    const request: DeployRequest = {
      rolloutId,
      candidate,
      strategy,
      ...(body.gates && { gates: body.gates }),
      ...(body.simulate && { simulate: body.simulate }),
      // The override travels in the reason, so every event and summary of this rollout says so.
      reason: override ? `override by ${override.owner} (key ${keyId}): ${override.reason}; ${reason}` : reason,
      requestedBy: keyId,
    };
    const options = endpointControllerStartOptions(projectId, name, deps.taskQueues.cpu);
    const idempotent = { key: idempotencyKey, route: `POST /v1/endpoints/${name}/rollouts`, requestHash: sha256Hex(await c.req.text()) };
    return answerOnce(c, deps.db, idempotent, async () => {
      // On record before the controller applies anything: its traffic-change activity looks for it.
      if (override) await recordOverride(deps.db, { projectId, modelVersionId: candidate.versionId, override: { ...override, endpoint: name, rolloutId } });
      try {
        await deps.temporal.workflow.executeUpdateWithStart(deployUpdate, {
          updateId: rolloutId,
          args: [request],
          startWorkflowOperation: new WithStartWorkflowOperation(endpointController, options),
        });
      } catch (err) {
        throw refusal(err);
      }
      return {
        status: 202,
        body: {
          workflowId: options.workflowId,
          rolloutId,
          endpoint: name,
          candidate: { model: candidate.model, version: candidate.version },
          strategy: strategy.type,
          steps,
          override: override && { by: override.by, owner: override.owner, reason: override.reason },
          status: `/v1/endpoints/${name}`,
          workflow: workflowStatusPath(options.workflowId),
          ...temporalUiLink(deps, options.workflowId),
        },
      };
    });
  });

  /** Pause, resume, abort or promote the running rollout. */
  app.post('/:name/rollouts/current/:action', requireRole('operator'), async (c) => {
    const action = c.req.param('action');
    if (!(action in ACTIONS)) {
      throw new UserError('unknown_rollout_action', `There is no rollout action "${action.slice(0, 40)}"; use pause, resume, abort or promote.`, 404, { field: 'action' });
    }
    const { projectId, keyId } = c.get('auth');
    const endpoint = await findEndpoint(deps, projectId, c.req.param('name'));
    const body = await optionalBody(c);
    const args: [ActionRequest] = [{ by: keyId, ...(body.reason && { reason: body.reason }) }];
    const handle = deps.temporal.workflow.getHandle(endpointControllerWorkflowId(projectId, endpoint.name));
    let result: ControllerActionResult;
    try {
      result = await handle.executeUpdate(ACTIONS[action as keyof typeof ACTIONS], { args });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new UserError(RolloutRefusal.NoRollout, `No rollout is running on endpoint ${endpoint.name}.`, 409);
      throw refusal(err);
    }
    return c.json(actionView(endpoint.name, result));
  });

  /** Returns the endpoint to its last good version (during a rollout: aborts it); a second rollback has nothing to do. */
  app.post('/:name/rollback', requireRole('operator'), async (c) => {
    const { projectId, keyId } = c.get('auth');
    const endpoint = await findEndpoint(deps, projectId, c.req.param('name'));
    const body = await optionalBody(c);
    const options = endpointControllerStartOptions(projectId, endpoint.name, deps.taskQueues.cpu);
    let result: ControllerActionResult;
    try {
      result = await deps.temporal.workflow.executeUpdateWithStart(rollbackUpdate, {
        args: [{ by: keyId, ...(body.reason && { reason: body.reason }) }],
        startWorkflowOperation: new WithStartWorkflowOperation(endpointController, options),
      });
    } catch (err) {
      throw refusal(err);
    }
    return c.json(actionView(endpoint.name, result));
  });

  return app;
}

type EndpointRow = typeof endpoints.$inferSelect;

async function findEndpoint(deps: ApiDeps, projectId: string, name: string): Promise<EndpointRow> {
  const [endpoint] = await deps.db.select().from(endpoints).where(and(eq(endpoints.projectId, projectId), eq(endpoints.name, name)));
  if (!endpoint) throw new UserError('endpoint_not_found', `There is no endpoint named "${name.slice(0, 80)}".`, 404, { field: 'endpoint' });
  return endpoint;
}

async function optionalBody(c: Parameters<typeof parseJsonBody>[0]): Promise<z.infer<typeof actionRequest>> {
  const text = await c.req.text();
  return text.trim() === '' ? {} : parseJsonBody(c, actionRequest);
}

/** The version a rollout names: by number or by alias; 404 naming what is missing. */
async function resolveCandidate(deps: ApiDeps, projectId: string, body: z.infer<typeof rolloutRequest>): Promise<VersionRef> {
  if ((body.version === undefined) === (body.alias === undefined)) {
    throw new UserError('invalid_request', 'Name the candidate with either "version" (a number) or "alias" (production, staging or challenger), not both or neither.', 422, { field: 'version' });
  }
  if (body.version !== undefined) {
    const found = await findPromotableVersion(deps.db, projectId, body.model, body.version);
    return { versionId: found.modelVersionId, model: found.modelName, version: found.version };
  }
  const [row] = await deps.db
    .select({ id: modelVersions.id, version: modelVersions.version, model: models.name })
    .from(modelAliases)
    .innerJoin(models, eq(models.id, modelAliases.modelId))
    .innerJoin(modelVersions, eq(modelVersions.id, modelAliases.modelVersionId))
    .where(and(eq(models.projectId, projectId), eq(models.name, body.model), eq(modelAliases.alias, body.alias ?? 'production')));
  if (!row) {
    await findPromotableVersion(deps.db, projectId, body.model, 1).catch((err: unknown) => {
      if (err instanceof UserError && err.code === 'model_not_found') throw err;
    });
    throw new UserError('alias_not_set', `Model "${body.model}" has no ${body.alias} alias yet; name a version, or promote one to ${body.alias} first.`, 404, { field: 'alias' });
  }
  return { versionId: row.id, model: row.model, version: row.version };
}

function short(v: VersionRef | undefined | null): { model: string; version: number; versionId: string } | null {
  return v ? { model: v.model, version: v.version, versionId: v.versionId } : null;
}

function traffic(row: EndpointRow, refs: Map<string, VersionRef>) {
  const ref = (id: string | null) => (id ? short(refs.get(id)) : null);
  const canary = ref(row.canaryVersionId);
  return { stable: ref(row.stableVersionId), canary: canary && row.canaryWeight > 0 ? { ...canary, weight: row.canaryWeight } : null, shadow: ref(row.shadowVersionId) };
}

/** A rollout as people read it: 1-based step, each gate's last reading, and how it ended. */
function rolloutView(r: RolloutState) {
  return {
    rolloutId: r.rolloutId,
    status: r.status,
    strategy: r.strategy.type,
    candidate: short(r.candidate),
    baseline: short(r.baseline),
    step: r.step + 1,
    steps: r.plan.length,
    weight: r.plan[r.step]?.weight ?? null,
    plan: r.plan,
    bakeEndsAt: r.bakeEndsAt,
    remainingBakeMs: r.remainingBakeMs,
    gates: r.readings,
    thresholds: r.gates,
    breached: r.breached,
    // Fail-closed gates: how often they were read, why the step cannot pass yet, how long its bake was extended, what the servers serve.
    gateReads: r.gateReads ?? 0,
    insufficient: r.insufficient ?? null,
    bakeExtendedMs: r.bakeExtendedMs ?? 0,
    serving: r.serving ?? null,
    simulation: r.simulation,
    outcome: r.outcome,
    failure: r.failure,
    requestedBy: r.requestedBy,
    pausedBy: r.pausedBy,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    reason: r.reason,
  };
}

function actionView(endpoint: string, result: ControllerActionResult) {
  return { endpoint, changed: result.changed, message: result.message, stable: short(result.stable), rollout: result.rollout ? rolloutView(result.rollout) : null };
}
