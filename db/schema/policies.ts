import { bigserial, index, integer, jsonb, pgTable, text, timestamp, unique } from 'drizzle-orm/pg-core';
import { projects } from './projects';
import { models } from './models';
import type { ModelPolicy } from '../../domain/model-policy';

/** The scope of a model's own policy; an endpoint's override is scoped by the endpoint's id. */
export const MODEL_POLICY_SCOPE = 'model';

/**
 * Every version of a registered model's promotion and rollout policy (append-only). `scope` is `model` for the
 * model's own policy or an endpoint id for that endpoint's override; the highest version of a scope is in force.
 */
export const modelPolicies = pgTable(
  'model_policies',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id),
    modelId: text('model_id')
      .notNull()
      .references(() => models.id),
    scope: text('scope').notNull(),
    version: integer('version').notNull(),
    policy: jsonb('policy').$type<ModelPolicy>().notNull(),
    /** An API key id (its principal is in the audit entry), or `workflow:<id>` for a pipeline that set it. */
    changedBy: text('changed_by').notNull(),
    reason: text('reason').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique('model_policies_scope_version_uq').on(t.modelId, t.scope, t.version), index('model_policies_model_idx').on(t.modelId, t.scope)],
);
