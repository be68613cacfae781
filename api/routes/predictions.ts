import { Hono } from 'hono';
import { predictionLineage } from '../../db/queries/lineage';
import type { ApiDeps } from '../deps';
import type { ApiEnv } from '../env';

/** Mounted under /v1/predictions: what the prediction log knows of one answer. */
export function predictionRoutes(deps: ApiDeps) {
  const app = new Hono<ApiEnv>();

  app.get('/:id/lineage', async (c) => c.json(await predictionLineage(deps.db, c.get('auth').projectId, c.req.param('id'))));

  return app;
}
