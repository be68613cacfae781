import { integer, json, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { projects } from './projects';

/**
 * One row per `Idempotency-Key` a project sent on a POST that starts work. The primary key is the lock:
 * the first request inserts the row, duplicates find it and get the recorded answer instead of a second run.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id),
    key: text('key').notNull(),
    /** `POST /v1/pipelines`, `POST /v1/datasets/:name/versions`: a key is bound to the route it was first used on. */
    route: text('route').notNull(),
    /** sha256 of what the request asked for; the same key with another hash is refused. */
    requestHash: text('request_hash').notNull(),
    /** Null while the first request is still running (or crashed before answering). */
    status: integer('status'),
    // json, not jsonb: a replayed answer keeps the key order of the first one.
    response: json('response').$type<Record<string, unknown>>(),
    workflowId: text('workflow_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    completedAt: timestamp('completed_at', { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.key] })],
);
