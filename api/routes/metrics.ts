import { createHash, timingSafeEqual } from 'node:crypto';
import { Hono } from 'hono';
import { UserError } from '../../platform/user-error';
import type { ApiDeps } from '../deps';
import type { ApiEnv } from '../env';

/**
 * Prometheus text exposition of the inference server's series. Open unless FACTORY_METRICS_TOKEN is set:
 * scrapers usually sit inside the cluster, and the series carry ids and counts, never inputs or outputs.
 */
export function metricsRoutes(deps: Pick<ApiDeps, 'metrics' | 'metricsToken'>) {
  const app = new Hono<ApiEnv>();
  app.get('/', async (c) => {
    if (deps.metricsToken !== undefined) {
      const match = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '');
      if (!match?.[1] || !sameSecret(match[1], deps.metricsToken)) {
        throw new UserError('invalid_metrics_token', "/metrics needs 'Authorization: Bearer <token>' with the token set in FACTORY_METRICS_TOKEN.", 401);
      }
    }
    return c.body(await deps.metrics.render(), 200, { 'content-type': deps.metrics.contentType() });
  });
  return app;
}

/** Compares digests, so the time taken says nothing about how much of the token was right. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
