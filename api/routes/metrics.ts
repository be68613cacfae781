import { createHash, timingSafeEqual } from 'node:crypto';
import { Hono } from 'hono';
import type { Db } from '../../db/client';
import { findActiveApiKeyByHash } from '../../db/queries/api-keys';
import { isInstallationProject } from '../../db/queries/projects';
import { hashApiKey } from '../../platform/api-keys';
import { UserError } from '../../platform/user-error';
import type { ApiDeps } from '../deps';
import type { ApiEnv } from '../env';

const HOW_TO_SCRAPE =
  "/metrics needs 'Authorization: Bearer <token>': set FACTORY_METRICS_TOKEN (16+ characters) and give the same token to your scraper (Prometheus: authorization.credentials), or send an admin API key of the installation's project.";

/**
 * Prometheus text exposition of the inference server's series. Closed by default: the series name every
 * project's endpoints and versions, so a scrape needs FACTORY_METRICS_TOKEN or an installation admin key.
 */
export function metricsRoutes(deps: Pick<ApiDeps, 'metrics' | 'metricsToken'> & { db?: Db }) {
  const app = new Hono<ApiEnv>();
  app.get('/', async (c) => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
    if (!bearer) throw new UserError('metrics_token_required', HOW_TO_SCRAPE, 401);
    const allowed = (deps.metricsToken !== undefined && sameSecret(bearer, deps.metricsToken)) || (deps.db !== undefined && (await isInstallationAdminKey(deps.db, bearer)));
    if (!allowed) throw new UserError('invalid_metrics_token', `The bearer token is not FACTORY_METRICS_TOKEN nor an admin key of the installation's project. ${HOW_TO_SCRAPE}`, 401);
    return c.body(await deps.metrics.render(), 200, { 'content-type': deps.metrics.contentType() });
  });
  return app;
}

async function isInstallationAdminKey(db: Db, key: string): Promise<boolean> {
  const found = await findActiveApiKeyByHash(db, hashApiKey(key));
  return found?.role === 'admin' && (await isInstallationProject(db, found.projectId));
}

/** Compares digests, so the time taken says nothing about how much of the token was right. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
