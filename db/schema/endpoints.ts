import { pgTable, text, timestamp, integer, jsonb, real, unique, index } from 'drizzle-orm/pg-core';
import { projects } from './projects';
import { modelVersions } from './models';
import type { FailureCause } from '../../domain/failure';
import type { EndpointRolloutSummary, TrafficRoute } from '../../domain/rollout';

export const ENDPOINT_STATUSES = ['live', 'updating', 'failed'] as const;

export const endpoints = pgTable(
  'endpoints',
  {
    id: text('id').primaryKey(),
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id),
    name: text('name').notNull(),
    stableVersionId: text('stable_version_id').references(() => modelVersions.id),
    canaryVersionId: text('canary_version_id').references(() => modelVersions.id),
    canaryWeight: integer('canary_weight').notNull().default(0),
    shadowVersionId: text('shadow_version_id').references(() => modelVersions.id),
    status: text('status', { enum: ENDPOINT_STATUSES }).notNull(),
    // The last deploy that failed: status 'failed' while the stable version keeps serving.
    failure: text('failure'),
    failureCause: jsonb('failure_cause').$type<FailureCause>(),
    // The running or last rollout, written by the endpoint's controller workflow with each traffic change.
    rollout: jsonb('rollout').$type<EndpointRolloutSummary>(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique('endpoints_project_name_uq').on(t.projectId, t.name)],
);

export const endpointEvents = pgTable(
  'endpoint_events',
  {
    id: text('id').primaryKey(),
    endpointId: text('endpoint_id')
      .notNull()
      .references(() => endpoints.id),
    kind: text('kind').notNull(),
    fromVersionId: text('from_version_id'),
    toVersionId: text('to_version_id'),
    trafficWeight: integer('traffic_weight').notNull(),
    reason: text('reason').notNull(),
    // The workflow that made the change: a retried activity finds its event already written.
    idempotencyKey: text('idempotency_key').notNull().unique(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('endpoint_events_endpoint_idx').on(t.endpointId, t.createdAt)],
);

export const predictions = pgTable(
  'predictions',
  {
    id: text('id').primaryKey(),
    // No foreign keys on the hot path: each checked row cost a lookup and a row lock on the endpoint and the
    // version (~15 % of a single-record predict's CPU, measured by bench/serving.ts). The writer takes both ids
    // from the routing table, which reads them from those tables, and neither table ever has a row deleted.
    endpointId: text('endpoint_id').notNull(),
    modelVersionId: text('model_version_id').notNull(),
    inputs: jsonb('inputs').$type<Record<string, unknown>>().notNull(),
    outputs: jsonb('outputs').$type<Record<string, unknown>>(),
    latencyMs: real('latency_ms').notNull(),
    error: text('error'),
    // Which traffic route answered (shadow rows were never returned to the caller).
    route: text('route').$type<TrafficRoute>().notNull().default('stable'),
    // The HTTP request the prediction belongs to: pairs a shadow copy with the answer it shadowed.
    requestId: text('request_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('predictions_endpoint_time_idx').on(t.endpointId, t.createdAt), index('predictions_version_time_idx').on(t.modelVersionId, t.createdAt)],
);

/** Ground truth for a prediction, attached later (last write wins); joins the prediction log by id. */
export const feedbackLabels = pgTable('feedback_labels', {
  predictionId: text('prediction_id')
    .primaryKey()
    .references(() => predictions.id),
  label: jsonb('label').$type<string | number>().notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
