import { pgTable, text, timestamp, integer, jsonb, unique } from 'drizzle-orm/pg-core';
import type { Anomaly, ColumnSchema, ColumnStats } from '../../domain/dataset';
import type { RetrainDatasetSource } from '../../domain/retrain';
import { projects } from './projects';

export const datasets = pgTable(
  'datasets',
  {
    id: text('id').primaryKey(),
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id),
    name: text('name').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique('datasets_project_name_uq').on(t.projectId, t.name)],
);

export interface UploadDatasetSource {
  kind: 'upload';
  contentType: string;
  bytes: number;
  uploadSha256: string;
}

/** Where a version's rows came from: an upload, or a retrain's base version plus labelled production traffic. */
export type DatasetSource = UploadDatasetSource | RetrainDatasetSource;

export const datasetVersions = pgTable(
  'dataset_versions',
  {
    id: text('id').primaryKey(),
    datasetId: text('dataset_id')
      .notNull()
      .references(() => datasets.id),
    version: integer('version').notNull(),
    contentHash: text('content_hash').notNull(),
    artifactUri: text('artifact_uri').notNull(),
    rowCount: integer('row_count').notNull(),
    schema: jsonb('schema').$type<ColumnSchema[]>().notNull(),
    stats: jsonb('stats').$type<ColumnStats[]>().notNull(),
    anomalies: jsonb('anomalies').$type<Anomaly[]>().notNull(),
    source: jsonb('source').$type<DatasetSource>().notNull(),
    // The ingest run that wrote this version: lets a retried activity know it was the creator.
    ingestRunId: text('ingest_run_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique('dataset_versions_content_uq').on(t.datasetId, t.contentHash),
    unique('dataset_versions_number_uq').on(t.datasetId, t.version),
  ],
);
