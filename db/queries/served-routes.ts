import { and, eq, gte, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { servedRoutes } from '../schema';
import type { TrafficRoute } from '../../domain/rollout';

/** A serving process as it names itself in served_routes. */
export interface ServingInstance {
  instanceId: string;
  host: string;
  pid: number;
}

export interface ServedRoute {
  route: TrafficRoute;
  versionId: string | null;
  wantedVersionId: string | null;
  loadError: string | null;
}

export type ServedRouteRow = ServingInstance & ServedRoute & { heartbeatAt: Date };

/** Writes what this process serves on each route of one endpoint (and that it is alive). */
export async function reportServedRoutes(db: Db, instance: ServingInstance, endpointId: string, routes: readonly ServedRoute[]): Promise<void> {
  if (routes.length === 0) return;
  const now = new Date();
  await db
    .insert(servedRoutes)
    .values(routes.map((r) => ({ ...instance, endpointId, ...r, updatedAt: now, heartbeatAt: now })))
    .onConflictDoUpdate({
      target: [servedRoutes.instanceId, servedRoutes.endpointId, servedRoutes.route],
      set: {
        versionId: sql`excluded.version_id`,
        wantedVersionId: sql`excluded.wanted_version_id`,
        loadError: sql`excluded.load_error`,
        updatedAt: now,
        heartbeatAt: now,
      },
    });
}

/** Marks every row of this process alive now. */
export async function heartbeatServedRoutes(db: Db, instanceId: string): Promise<void> {
  await db.update(servedRoutes).set({ heartbeatAt: new Date() }).where(eq(servedRoutes.instanceId, instanceId));
}

/** Drops one endpoint's rows of this process (it no longer holds the endpoint), or all of them (it stops). */
export async function forgetServedRoutes(db: Db, instanceId: string, endpointId?: string): Promise<void> {
  await db.delete(servedRoutes).where(and(eq(servedRoutes.instanceId, instanceId), endpointId === undefined ? undefined : eq(servedRoutes.endpointId, endpointId)));
}

/** Rows of an endpoint from processes that heart-beat at or after `liveSince`. */
export async function liveServedRoutes(db: Db, endpointId: string, liveSince: Date): Promise<ServedRouteRow[]> {
  return db
    .select({
      instanceId: servedRoutes.instanceId,
      host: servedRoutes.host,
      pid: servedRoutes.pid,
      route: servedRoutes.route,
      versionId: servedRoutes.versionId,
      wantedVersionId: servedRoutes.wantedVersionId,
      loadError: servedRoutes.loadError,
      heartbeatAt: servedRoutes.heartbeatAt,
    })
    .from(servedRoutes)
    .where(and(eq(servedRoutes.endpointId, endpointId), gte(servedRoutes.heartbeatAt, liveSince)));
}
