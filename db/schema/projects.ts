import { boolean, pgTable, text, timestamp, index } from 'drizzle-orm/pg-core';

export const projects = pgTable('projects', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  /** The project the installation bootstrapped: its admins operate the installation (artifact collection, /metrics). */
  installation: boolean('installation').notNull().default(false),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** `approver` reads like a viewer and decides promotion approvals, nothing else. */
export const API_KEY_ROLES = ['viewer', 'operator', 'admin', 'approver'] as const;
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

export const apiKeys = pgTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id),
    name: text('name').notNull(),
    /** The person or service the key belongs to (an e-mail or user name): four eyes compare owners, not keys. */
    owner: text('owner').notNull(),
    role: text('role', { enum: API_KEY_ROLES }).notNull(),
    // sha256 of the key: keys are 256-bit random, so a fast hash is enough and lookups stay O(1).
    keyHash: text('key_hash').notNull().unique(),
    keyPrefix: text('key_prefix').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [index('api_keys_project_idx').on(t.projectId)],
);
