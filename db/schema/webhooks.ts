import { index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { projects } from './projects';

/** The registry events a webhook may subscribe to. */
export const REGISTRY_EVENT_TYPES = [
  'model_version.created',
  'model_version.blessed',
  'model_version.rejected',
  'promotion.approved',
  'promotion.rejected',
  'model_alias.promoted',
] as const;
export type RegistryEventType = (typeof REGISTRY_EVENT_TYPES)[number];

/** A receiver of a project's registry events; deleting one stops deliveries not yet made. */
export const webhooks = pgTable(
  'webhooks',
  {
    id: text('id').primaryKey(),
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id),
    url: text('url').notNull(),
    events: jsonb('events').$type<RegistryEventType[]>().notNull(),
    // Kept in clear: HMAC signing needs the secret itself, unlike API keys which are only compared.
    secret: text('secret').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
  },
  (t) => [index('webhooks_project_idx').on(t.projectId)],
);
