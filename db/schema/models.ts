import { bigserial, index, pgTable, text, timestamp, integer, jsonb, unique, primaryKey } from 'drizzle-orm/pg-core';
import { projects } from './projects';
import { trainingRuns } from './training';
import { datasetVersions } from './datasets';
import type { Blessing, EvaluationReport } from '../../domain/model';
import type { FailureCause } from '../../domain/failure';
import type { ModelLineage } from '../../domain/lineage';
import type { InfraValidationRecord } from '../../domain/infra-validation';

export type { ModelLineage } from '../../domain/lineage';

export const models = pgTable(
  'models',
  {
    id: text('id').primaryKey(),
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id),
    name: text('name').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique('models_project_name_uq').on(t.projectId, t.name)],
);

export interface ModelInputSchema {
  name: 'features';
  features: string[];
}

/**
 * What the ONNX graph outputs and how to read it. `probability` is the binary-only shape written before
 * multi-class models existed; new classifiers (binary too) serve `probabilities`, regressors `value`.
 */
export type ModelOutputSchema =
  | {
      name: 'probability' | 'probabilities';
      task?: 'classification';
      classes: string[];
      /** The target column's type, so predicted labels come back as the user wrote them. */
      labelType: 'number' | 'string';
    }
  | { name: 'value'; task: 'regression'; target: string };

/** A promotion decision recorded on the version it was about. */
export interface PromotionApproval {
  decision: 'approved' | 'rejected';
  alias: string;
  /** An API key id, `workflow:<id>` when no approval was required, or `timeout`. */
  by: string;
  reason: string;
  at: string;
  workflowId: string;
  /** The run that decided: a promotion workflow id is reused per alias, its run id is not. */
  runId: string;
}

export const modelVersions = pgTable(
  'model_versions',
  {
    id: text('id').primaryKey(),
    modelId: text('model_id')
      .notNull()
      .references(() => models.id),
    version: integer('version').notNull(),
    trainingRunId: text('training_run_id')
      .notNull()
      .references(() => trainingRuns.id),
    datasetVersionId: text('dataset_version_id')
      .notNull()
      .references(() => datasetVersions.id),
    onnxUri: text('onnx_uri').notNull(),
    onnxSha256: text('onnx_sha256').notNull(),
    inputSchema: jsonb('input_schema').$type<ModelInputSchema>().notNull(),
    outputSchema: jsonb('output_schema').$type<ModelOutputSchema>().notNull(),
    evaluation: jsonb('evaluation').$type<EvaluationReport>().notNull(),
    blessing: jsonb('blessing').$type<Blessing>().notNull(),
    modelCard: jsonb('model_card').$type<Record<string, unknown>>().notNull(),
    /** Null for versions registered before lineage was recorded. */
    lineage: jsonb('lineage').$type<ModelLineage>(),
    // Set when the pipeline that registered this version failed or was cancelled afterwards (e.g. in deploy).
    failure: text('failure'),
    failureCause: jsonb('failure_cause').$type<FailureCause>(),
    failedAt: timestamp('failed_at', { withTimezone: true }),
    // The last promotion decision on this version: who approved or rejected it, why, when, in which workflow.
    approval: jsonb('approval').$type<PromotionApproval>(),
    /** What infra-validation found (passed or why not); null when it never ran on this version. */
    infraValidation: jsonb('infra_validation').$type<InfraValidationRecord>(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique('model_versions_number_uq').on(t.modelId, t.version),
    unique('model_versions_run_uq').on(t.modelId, t.trainingRunId),
  ],
);

export const MODEL_ALIASES = ['production', 'staging', 'challenger'] as const;
export type ModelAlias = (typeof MODEL_ALIASES)[number];

export const modelAliases = pgTable(
  'model_aliases',
  {
    modelId: text('model_id')
      .notNull()
      .references(() => models.id),
    alias: text('alias', { enum: MODEL_ALIASES }).notNull(),
    modelVersionId: text('model_version_id')
      .notNull()
      .references(() => modelVersions.id),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.modelId, t.alias] })],
);

/**
 * Every move of an alias, kept forever: which version held it before and after, who moved it, why, and
 * from which workflow. Written in the same transaction as the move (db/queries/aliases.ts).
 */
export const modelAliasEvents = pgTable(
  'model_alias_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    modelId: text('model_id')
      .notNull()
      .references(() => models.id),
    alias: text('alias', { enum: MODEL_ALIASES }).notNull(),
    fromVersionId: text('from_version_id').references(() => modelVersions.id),
    toVersionId: text('to_version_id')
      .notNull()
      .references(() => modelVersions.id),
    /** An API key id, or `workflow:<id>`. */
    actor: text('actor').notNull(),
    reason: text('reason').notNull(),
    workflowId: text('workflow_id'),
    /** A retried move finds its event and changes nothing. */
    idempotencyKey: text('idempotency_key').notNull().unique(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('model_alias_events_alias_idx').on(t.modelId, t.alias, t.id)],
);

