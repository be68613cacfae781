import { and, desc, eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { endpointEvents, endpoints } from '../../db/schema';
import { UserError } from '../../platform/user-error';
import type { ApiDeps } from '../deps';
import type { ApiEnv } from '../env';
import { parseJsonBody } from '../json-body';
import { requireRole } from '../middleware/api-key-auth';

export const MAX_RECORDS_PER_REQUEST = 1000;

const predictRequest = z
  .object({
    records: z.array(z.record(z.string(), z.unknown())).min(1, 'send at least one record').max(MAX_RECORDS_PER_REQUEST, `send at most ${MAX_RECORDS_PER_REQUEST} records per request`),
  })
  .strict();

export function endpointRoutes(deps: ApiDeps) {
  const app = new Hono<ApiEnv>();

  app.post('/:name/predict', requireRole('operator'), async (c) => {
    const { records } = await parseJsonBody(c, predictRequest);
    const routingKey = c.req.header('x-routing-key');
    return c.json(await deps.predictor.predict(c.get('auth').projectId, c.req.param('name'), records, { routingKey, requestId: c.get('requestId') }));
  });

  app.get('/:name', async (c) => {
    const name = c.req.param('name');
    const [endpoint] = await deps.db.select().from(endpoints).where(and(eq(endpoints.projectId, c.get('auth').projectId), eq(endpoints.name, name)));
    if (!endpoint) throw new UserError('endpoint_not_found', `There is no endpoint named "${name.slice(0, 80)}".`, 404, { field: 'endpoint' });
    const events = await deps.db.select().from(endpointEvents).where(eq(endpointEvents.endpointId, endpoint.id)).orderBy(desc(endpointEvents.createdAt)).limit(50);
    return c.json({
      name: endpoint.name,
      status: endpoint.status,
      // Why the last deploy failed (the stable version keeps serving meanwhile); null once a deploy succeeds.
      failure: endpoint.failureCause ? { ...endpoint.failureCause, at: endpoint.updatedAt } : null,
      stableVersionId: endpoint.stableVersionId,
      canaryVersionId: endpoint.canaryVersionId,
      canaryWeight: endpoint.canaryWeight,
      shadowVersionId: endpoint.shadowVersionId,
      events: events.map((e) => ({ kind: e.kind, from: e.fromVersionId, to: e.toVersionId, trafficWeight: e.trafficWeight, reason: e.reason, at: e.createdAt })),
    });
  });

  return app;
}
