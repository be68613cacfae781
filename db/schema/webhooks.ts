import { index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import type { RegistryEventType } from '../../domain/registry-events';
import { projects } from './projects';

export { REGISTRY_EVENT_TYPES, type RegistryEventType } from '../../domain/registry-events';

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
    // HMAC signing needs the secret itself (unlike API keys, which are only compared), so it is sealed with
    // AES-256-GCM under FACTORY_SECRET_KEY, bound to the row's id; rows from before are sealed at start-up.
    secret: text('secret').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
  },
  (t) => [index('webhooks_project_idx').on(t.projectId)],
);
