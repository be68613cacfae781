import { index, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import type { TrafficRoute } from '../../domain/rollout';
import { endpoints } from './endpoints';

/**
 * What each serving process actually serves, per endpoint it holds and route: written on every load or reload
 * of the endpoint's routing, heart-beaten every 10 s, deleted when the process stops. A rollout's controller
 * reads it to know every live server serves the step's versions before it bakes.
 */
export const servedRoutes = pgTable(
  'served_routes',
  {
    /** One per serving process (a new one each start). */
    instanceId: text('instance_id').notNull(),
    host: text('host').notNull(),
    pid: integer('pid').notNull(),
    endpointId: text('endpoint_id')
      .notNull()
      .references(() => endpoints.id, { onDelete: 'cascade' }),
    route: text('route').$type<TrafficRoute>().notNull(),
    /** The version the route answers with in this process (null: the route is empty here). */
    versionId: text('version_id'),
    /** The version the endpoint row asks for on this route. */
    wantedVersionId: text('wanted_version_id'),
    /** Why the wanted version could not be loaded here (null when it is served). */
    loadError: text('load_error'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    /** The process was alive at this time; a row whose heartbeat is old belongs to a process that is gone. */
    heartbeatAt: timestamp('heartbeat_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.instanceId, t.endpointId, t.route] }), index('served_routes_endpoint_idx').on(t.endpointId)],
);
