import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { Hono } from 'hono';
import { z } from 'zod';
import { findEndpointForMonitoring, lastReportedWindowEnd, listDriftReports, readMonitoringConfig, saveMonitoringConfig } from '../../db/queries/monitoring';
import { DEFAULT_RETRAIN_RETRY } from '../../domain/retrain-episode';
import { DEFAULT_MONITORING_THRESHOLDS, type MonitorEndpointInput, type MonitoringThresholds, type RetrainConfig } from '../../domain/monitoring';
import { UserError } from '../../platform/user-error';
import { monitorEndpoint } from '../../workflows';
import { factorySearchAttributes, monitorWorkflowId } from '../../workflows/contracts';
import type { ApiDeps } from '../deps';
import type { ApiEnv } from '../env';
import { answerOnce, idempotencyKeyOf, sha256Hex } from '../idempotency';
import { checkResourceName, parseJsonBody } from '../json-body';
import { requireRole } from '../middleware/api-key-auth';
import { temporalUiLink, workflowStatusPath } from '../workflow-links';
import { pipelineModelSchema } from './pipelines';

/** The window POST /monitor covers when none is given, and when nothing was reported before. */
export const DEFAULT_MONITOR_WINDOW_MS = 60 * 60_000;
export const MAX_DRIFT_PAGE = 100;

const positive = z.number().positive();
const share = z.number().gt(0).max(1);

const featureThresholdsSchema = z.object({ psi: positive.optional(), ks: share.optional(), js: share.optional(), chi2PValue: z.number().gt(0).lt(1).optional(), wasserstein: positive.optional() }).strict();

/** Every threshold optional: what is left out gets the default (domain/monitoring DEFAULT_MONITORING_THRESHOLDS). */
const thresholdsSchema = z
  .object({
    psi: positive.optional(),
    ks: share.optional(),
    js: share.optional(),
    chi2PValue: z.number().gt(0).lt(1).optional(),
    wasserstein: positive.optional(),
    predictionPsi: positive.optional(),
    minAccuracy: z.number().min(0).max(1).nullable().optional(),
    maxRmse: positive.nullable().optional(),
    minLabels: z.number().int().min(1).max(1_000_000).optional(),
    minRows: z.number().int().min(1).max(1_000_000_000).optional(),
    features: z.record(z.string().min(1).max(200), featureThresholdsSchema).optional(),
  })
  .strict();

const monitoringRequest = z
  .object({
    thresholds: thresholdsSchema.default({}),
    retrain: z
      .object({
        enabled: z.boolean().default(false),
        model: pipelineModelSchema.optional(),
        maxAttempts: z.number().int().min(1).max(10).default(DEFAULT_RETRAIN_RETRY.maxAttempts),
        backoffSeconds: z.number().int().min(1).max(7 * 24 * 3600).default(DEFAULT_RETRAIN_RETRY.backoffSeconds),
      })
      .strict()
      .refine((r) => !r.enabled || r.model !== undefined, { message: 'give the model spec to retrain with when retraining is enabled', path: ['model'] })
      .default({ enabled: false, maxAttempts: DEFAULT_RETRAIN_RETRY.maxAttempts, backoffSeconds: DEFAULT_RETRAIN_RETRY.backoffSeconds }),
  })
  .strict();

const instant = z.string().datetime({ offset: true, message: 'use an ISO 8601 date-time such as 2026-01-31T12:00:00Z' });
const monitorRequest = z.object({ from: instant.optional(), to: instant.optional() }).strict();

function parseInstantQuery(raw: string | undefined, field: string): Date | undefined {
  if (raw === undefined) return undefined;
  const at = new Date(raw);
  if (!instant.safeParse(raw).success || Number.isNaN(at.getTime())) {
    throw new UserError('invalid_query_parameter', `?${field}= takes an ISO 8601 date-time such as 2026-01-31T12:00:00Z (got "${raw.slice(0, 40)}").`, 400, { field });
  }
  return at;
}

function parsePageNumber(raw: string | undefined, field: string, min: number, max: number, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!(Number.isInteger(n) && n >= min && n <= max)) throw new UserError(`invalid_${field}`, `${field} must be an integer from ${min} to ${max} (got "${raw.slice(0, 20)}").`, 400, { field });
  return n;
}

/** Drift monitoring of an endpoint; mounted under /v1/endpoints. */
export function monitoringRoutes(deps: ApiDeps) {
  const app = new Hono<ApiEnv>();

  app.get('/:name/monitoring', async (c) => {
    const endpoint = await findEndpointForMonitoring(deps.db, c.get('auth').projectId, checkResourceName('endpoint', c.req.param('name')));
    const config = await readMonitoringConfig(deps.db, endpoint.id);
    return c.json({ endpoint: endpoint.name, features: endpoint.features, ...config });
  });

  /** Replaces the configuration: thresholds left out get the defaults (the answer shows every value in force). */
  app.put('/:name/monitoring', requireRole('operator'), async (c) => {
    const { projectId, keyId } = c.get('auth');
    const endpoint = await findEndpointForMonitoring(deps.db, projectId, checkResourceName('endpoint', c.req.param('name')));
    const body = await parseJsonBody(c, monitoringRequest);
    const perFeature = body.thresholds.features ?? {};
    const unknown = Object.keys(perFeature).filter((f) => !endpoint.features.includes(f));
    if (unknown.length > 0) {
      throw new UserError(
        'unknown_feature',
        `thresholds.features names ${unknown.map((f) => `"${f.slice(0, 60)}"`).join(', ')}, which the endpoint's model does not take; its features are ${endpoint.features.join(', ') || '(none: nothing deployed)'}.`,
        422,
        { field: 'thresholds.features', unknown: unknown.join(', '), features: endpoint.features.join(', ') },
      );
    }
    const { features: _features, ...given } = body.thresholds;
    const thresholds: MonitoringThresholds = { ...DEFAULT_MONITORING_THRESHOLDS, ...stripUndefined(given), features: perFeature };
    const { enabled, model, maxAttempts, backoffSeconds } = body.retrain;
    const retrain: RetrainConfig = { enabled, model: model ?? null, maxAttempts, backoffSeconds };
    const config = await saveMonitoringConfig(deps.db, { projectId, endpointId: endpoint.id, actor: keyId, thresholds, retrain });
    return c.json({ endpoint: endpoint.name, features: endpoint.features, ...config });
  });

  /**
   * Starts monitorEndpoint over [from, to) (default: since the last report, or the last hour, until now): 202.
   * With an Idempotency-Key, "now" is when the key was first used, so a retry asks for the same window.
   */
  app.post('/:name/monitor', requireRole('operator'), async (c) => {
    const key = idempotencyKeyOf(c);
    const { projectId, keyId } = c.get('auth');
    const endpoint = await findEndpointForMonitoring(deps.db, projectId, checkResourceName('endpoint', c.req.param('name')));
    const text = await c.req.text();
    const body = text.trim() === '' ? {} : await parseJsonBody(c, monitorRequest);
    const request = { key, route: `POST /v1/endpoints/${endpoint.name}/monitor`, requestHash: sha256Hex(text) };
    return answerOnce(c, deps.db, request, async ({ requestedAt }) => {
      const to = body.to ? new Date(body.to) : requestedAt;
      let from: Date;
      if (body.from) {
        from = new Date(body.from);
      } else {
        const last = await lastReportedWindowEnd(deps.db, endpoint.id, to);
        from = last ?? new Date(to.getTime() - DEFAULT_MONITOR_WINDOW_MS);
      }
      if (from.getTime() >= to.getTime()) {
        throw new UserError('invalid_window', `The window must end after it starts: from ${from.toISOString()} is not before to ${to.toISOString()}.`, 422, { field: 'to' });
      }
      const window = { from: from.toISOString(), to: to.toISOString() };
      const workflowId = monitorWorkflowId(projectId, endpoint.name, window.from, window.to);
      const input: MonitorEndpointInput = { projectId, endpointName: endpoint.name, ...window, requestedBy: keyId };
      const links = {
        status: workflowStatusPath(workflowId),
        drift: `/v1/endpoints/${encodeURIComponent(endpoint.name)}/drift?from=${encodeURIComponent(window.from)}&to=${encodeURIComponent(window.to)}`,
        ...temporalUiLink(deps, workflowId),
      };
      try {
        await deps.temporal.workflow.start(monitorEndpoint, {
          taskQueue: deps.taskQueues.cpu,
          workflowId,
          args: [input],
          memo: { projectId },
          typedSearchAttributes: factorySearchAttributes({ projectId, endpoint: endpoint.name }),
          staticSummary: `monitor ${endpoint.name} over [${window.from}, ${window.to})`,
          // A second request for the same window joins the running monitor; a completed one is not run again.
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
          workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        return { status: 200, body: { workflowId, window, alreadyReported: true, links } };
      }
      return { status: 202, body: { workflowId, window, links } };
    });
  });

  /** Stored reports whose window overlaps [from, to), newest window first; `cursor` pages on. */
  app.get('/:name/drift', async (c) => {
    const endpoint = await findEndpointForMonitoring(deps.db, c.get('auth').projectId, checkResourceName('endpoint', c.req.param('name')));
    const from = parseInstantQuery(c.req.query('from'), 'from');
    const to = parseInstantQuery(c.req.query('to'), 'to');
    const limit = parsePageNumber(c.req.query('limit'), 'limit', 1, MAX_DRIFT_PAGE, 20);
    const offset = parsePageNumber(c.req.query('cursor'), 'cursor', 0, 1_000_000, 0);
    const page = await listDriftReports(deps.db, { endpointId: endpoint.id, from, to, limit, offset });
    return c.json({ endpoint: endpoint.name, reports: page.reports, nextCursor: page.more ? String(offset + limit) : null });
  });

  return app;
}

function stripUndefined<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
