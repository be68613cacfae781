import { pgTable, text, timestamp, jsonb, index } from 'drizzle-orm/pg-core';
import type { FailureCause } from '../../domain/failure';
import type { Blessing, EvaluationReport, ModelSpec, Task, TrainingSplit } from '../../domain/model';
import { projects } from './projects';
import { datasetVersions } from './datasets';

export const TRAINING_RUN_STATUSES = ['running', 'succeeded', 'failed', 'cancelled'] as const;

export interface EpochMetrics {
  epoch: number;
  loss: number;
  /** The activity attempt that trained this epoch: shows a retry resumed instead of starting over. */
  attempt: number;
}

export const trainingRuns = pgTable(
  'training_runs',
  {
    id: text('id').primaryKey(),
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id),
    datasetVersionId: text('dataset_version_id')
      .notNull()
      .references(() => datasetVersions.id),
    workflowId: text('workflow_id').notNull().unique(),
    target: text('target').notNull(),
    features: jsonb('features').$type<string[]>().notNull(),
    task: text('task', { enum: ['classification', 'regression'] }).$type<Task>().notNull().default('classification'),
    /** Why this task: "declared in the request", or what inference saw in the target column. */
    taskReason: text('task_reason'),
    /** The target's classes in label order (what class index i means); null for regression. */
    classes: jsonb('classes').$type<string[]>(),
    spec: jsonb('spec').$type<ModelSpec>().notNull(),
    /** How rows were split into training and held-out; null on runs from before: a seeded shuffle of row indices. */
    split: jsonb('split').$type<TrainingSplit>(),
    taskQueue: text('task_queue').notNull(),
    backend: text('backend'),
    status: text('status', { enum: TRAINING_RUN_STATUSES }).notNull(),
    epochMetrics: jsonb('epoch_metrics').$type<EpochMetrics[]>().notNull().default([]),
    checkpointUri: text('checkpoint_uri'),
    /**
     * When Temporal scheduled the newest training attempt that started on this run (the fencing token):
     * an older attempt still running after Temporal gave the work to a newer one may not write.
     */
    attemptScheduledAt: timestamp('attempt_scheduled_at', { withTimezone: true }),
    modelUri: text('model_uri'),
    codeVersion: text('code_version').notNull(),
    evaluation: jsonb('evaluation').$type<EvaluationReport>(),
    /** Decided by the evaluate stage from every threshold, with candidate and champion on the same rows; null for runs evaluated before. */
    blessing: jsonb('blessing').$type<Blessing>(),
    /** `<stage>: <type> (<code>): <message>` of the root cause when the run's pipeline failed or was cancelled. */
    failure: text('failure'),
    failureCause: jsonb('failure_cause').$type<FailureCause>(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [index('training_runs_project_idx').on(t.projectId)],
);
