import { boolean, index, jsonb, pgTable, text, timestamp, unique } from 'drizzle-orm/pg-core';
import type { MonitoringThresholds, RetrainConfig, VersionDriftReport } from '../../domain/monitoring';
import { endpoints } from './endpoints';
import { modelVersions } from './models';

/** An endpoint's drift thresholds and retrain settings (PUT /v1/endpoints/{name}/monitoring); absent means the defaults. */
export const endpointMonitoring = pgTable('endpoint_monitoring', {
  endpointId: text('endpoint_id')
    .primaryKey()
    .references(() => endpoints.id),
  thresholds: jsonb('thresholds').$type<MonitoringThresholds>().notNull(),
  retrain: jsonb('retrain').$type<RetrainConfig>().notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  updatedBy: text('updated_by').notNull(),
});

/** One model version's drift and live quality over a window, written by a monitorEndpoint run (once per run and version). */
export const driftReports = pgTable(
  'drift_reports',
  {
    id: text('id').primaryKey(),
    endpointId: text('endpoint_id')
      .notNull()
      .references(() => endpoints.id),
    modelVersionId: text('model_version_id')
      .notNull()
      .references(() => modelVersions.id),
    windowFrom: timestamp('window_from', { withTimezone: true }).notNull(),
    windowTo: timestamp('window_to', { withTimezone: true }).notNull(),
    report: jsonb('report').$type<VersionDriftReport>().notNull(),
    drifted: boolean('drifted').notNull(),
    // The monitor run that wrote it: a retried activity finds its report already stored.
    workflowId: text('workflow_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique('drift_reports_workflow_version_uq').on(t.workflowId, t.modelVersionId), index('drift_reports_endpoint_window_idx').on(t.endpointId, t.windowTo)],
);
