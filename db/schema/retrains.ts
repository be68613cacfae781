import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, text, timestamp, unique, uniqueIndex } from 'drizzle-orm/pg-core';
import type { RetrainOutcome, RetrainTrigger } from '../../domain/retrain';
import { datasetVersions } from './datasets';
import { endpoints } from './endpoints';
import { models, modelVersions } from './models';
import { projects } from './projects';

export const RETRAIN_STATUSES = ['running', 'succeeded', 'failed', 'skipped'] as const;

/**
 * One claim to retrain a model for one episode (a drift episode, a schedule's firing, a manual request), one
 * row per attempt. The database refuses a second claim of the same attempt and a second running retrain of a
 * model, so repeated alarms, monitors seconds apart and overlapping schedules cannot start two retrains.
 */
export const retrainRuns = pgTable(
  'retrain_runs',
  {
    id: text('id').primaryKey(),
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id),
    endpointId: text('endpoint_id')
      .notNull()
      .references(() => endpoints.id),
    modelId: text('model_id')
      .notNull()
      .references(() => models.id),
    episode: text('episode').notNull(),
    /** 1, then one more after each failure whose backoff has passed, up to `maxAttempts`. */
    attempt: integer('attempt').notNull().default(1),
    /** Attempts allowed for the episode when this one was claimed (claims from before attempts: 3). */
    maxAttempts: integer('max_attempts').notNull().default(3),
    /** The first backoff; each failure doubles it. */
    backoffSeconds: integer('backoff_seconds').notNull().default(600),
    /** A failed attempt with attempts left: from when an alarm of the episode may claim the next one. */
    retryAt: timestamp('retry_at', { withTimezone: true }),
    // The retrainEndpoint run that owns the claim (for a skipped claim: the run that would have).
    workflowId: text('workflow_id').notNull().unique(),
    trigger: jsonb('trigger').$type<RetrainTrigger>().notNull(),
    status: text('status', { enum: RETRAIN_STATUSES }).notNull(),
    pipelineWorkflowId: text('pipeline_workflow_id'),
    datasetVersionId: text('dataset_version_id').references(() => datasetVersions.id),
    modelVersionId: text('model_version_id').references(() => modelVersions.id),
    outcome: jsonb('outcome').$type<RetrainOutcome>(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    unique('retrain_runs_model_episode_attempt_uq').on(t.modelId, t.episode, t.attempt),
    uniqueIndex('retrain_runs_one_running_per_model').on(t.modelId).where(sql`status = 'running'`),
    index('retrain_runs_endpoint_idx').on(t.endpointId, t.startedAt),
  ],
);
