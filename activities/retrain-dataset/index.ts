import { Context } from '@temporalio/activity';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { and, eq, max } from 'drizzle-orm';
import { datasets, datasetVersions } from '../../db/schema';
import { findEndpointForMonitoring } from '../../db/queries/monitoring';
import { findRetrainBase } from '../../db/queries/retrain-base';
import { labelledPredictionsPage, type LabelledPredictionCursor } from '../../db/queries/labelled-predictions';
import { decodeDatasetArrow, encodeDatasetArrow } from '../../data/columnar';
import { DatasetBuilder } from '../../data/dataset-builder';
import { labelledRow, type RetrainTarget } from '../../data/labelled-row';
import { targetClasses } from '../../data/target-task';
import { NO_LABELLED_TRAFFIC, type BuildRetrainDatasetInput, type BuildRetrainDatasetResult, type RetrainDatasetSource, type SkippedLabels } from '../../domain/retrain';
import { newId } from '../../platform/ids';
import { UserError } from '../../platform/user-error';
import { FailureType, type UserFailureDetails } from '../../workflows/contracts';
import type { ActivityDeps } from '../deps';
import { throttledHeartbeat } from '../heartbeat';

/** Labelled predictions read per query: bounds memory and keeps each statement short. */
export const LABELLED_PAGE_ROWS = 2_000;

function parseWindow(window: BuildRetrainDatasetInput['window']): { from: Date; to: Date } {
  const from = new Date(window.from);
  const to = new Date(window.to);
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || from >= to) {
    throw new UserError('invalid_window', `The feedback window [${window.from}, ${window.to}) is not a pair of ISO times with "from" before "to".`, 422, { field: 'window' });
  }
  return { from, to };
}

function noLabelledTraffic(input: BuildRetrainDatasetInput, skipped: SkippedLabels): ApplicationFailure {
  const left = skipped.unknown_class + skipped.not_a_number;
  const why = left > 0 ? `; ${left} label(s) did not fit the base model's target (${skipped.unknown_class} unknown class, ${skipped.not_a_number} not a number)` : '';
  const details: UserFailureDetails = { code: NO_LABELLED_TRAFFIC, status: 422, details: { endpoint: input.endpointName, from: input.window.from, to: input.window.to } };
  return ApplicationFailure.create({
    type: FailureType.NoLabelledTraffic,
    message: `Endpoint "${input.endpointName}" has no labelled answers in [${input.window.from}, ${input.window.to})${why}; a retrain would learn nothing new. Send ground truth with POST /v1/feedback, or widen the window.`,
    nonRetryable: true,
    details: [details],
    category: ApplicationFailureCategory.BENIGN,
  });
}

function resultOf(version: typeof datasetVersions.$inferSelect, dataset: string, created: boolean, fallback: Omit<BuildRetrainDatasetResult, 'datasetVersionId' | 'dataset' | 'version' | 'rows' | 'created'>): BuildRetrainDatasetResult {
  const source = version.source.kind === 'retrain' ? version.source : null;
  return {
    datasetVersionId: version.id,
    dataset,
    version: version.version,
    rows: version.rowCount,
    baseDatasetVersionId: source?.baseDatasetVersionId ?? fallback.baseDatasetVersionId,
    baseRows: source?.baseRows ?? fallback.baseRows,
    feedbackRows: source?.feedback.rows ?? fallback.feedbackRows,
    skippedLabels: source?.feedback.skipped ?? fallback.skippedLabels,
    created,
  };
}

export function createRetrainDatasetActivities(deps: Pick<ActivityDeps, 'db' | 'artifacts'>) {
  return {
    /**
     * A new version of the base model's dataset: its training rows, then the endpoint's labelled answers of the
     * window (oldest first), profiled and content-hashed like an upload. Idempotent: the version written by this
     * workflow id is returned on a retry, and content that is already a version is that version (`created: false`).
     */
    async buildRetrainDataset(input: BuildRetrainDatasetInput): Promise<BuildRetrainDatasetResult> {
      const beat = throttledHeartbeat(Context.current());
      const window = parseWindow(input.window);
      const endpoint = await findEndpointForMonitoring(deps.db, input.projectId, input.endpointName);
      const base = await findRetrainBase(deps.db, input.projectId, input.baseModelVersionId);
      const baseVersion = base.datasetVersion;

      // A retry after the version was recorded (the reply lost) finds it without reading the window again.
      const [written] = await deps.db
        .select()
        .from(datasetVersions)
        .where(and(eq(datasetVersions.datasetId, base.dataset.id), eq(datasetVersions.ingestRunId, input.workflowId)));
      if (written) {
        return resultOf(written, base.dataset.name, true, {
          baseDatasetVersionId: baseVersion.id,
          baseRows: baseVersion.rowCount,
          feedbackRows: written.rowCount - baseVersion.rowCount,
          skippedLabels: { unknown_class: 0, not_a_number: 0 },
        });
      }

      const table = decodeDatasetArrow(await deps.artifacts.get(baseVersion.artifactUri));
      const schema = baseVersion.schema;
      const targetColumn = schema.find((column) => column.name === base.run.target);
      if (!targetColumn) throw new Error(`dataset version ${baseVersion.id} has no target column ${base.run.target}`);
      const target: RetrainTarget = {
        name: base.run.target,
        task: base.run.task,
        // Runs recorded before classes were stored learnt them from the data, in the same order.
        classes: base.run.task === 'regression' ? null : (base.run.classes ?? targetClasses(table.stringColumn(base.run.target), targetColumn.type)),
      };

      const builder = new DatasetBuilder(schema);
      builder.appendTable(table, (rows) => beat({ stage: 'base', rows }));
      const baseRows = builder.rowCount;

      const skipped: SkippedLabels = { unknown_class: 0, not_a_number: 0 };
      const modelVersionIds = new Set<string>();
      let after: LabelledPredictionCursor | null = null;
      do {
        const page = await labelledPredictionsPage(deps.db, { endpointId: endpoint.id, ...window, after, limit: LABELLED_PAGE_ROWS });
        for (const prediction of page.rows) {
          const mapped = labelledRow(schema, target, prediction.inputs, prediction.label);
          if (mapped.skipped) {
            skipped[mapped.skipped] += 1;
            continue;
          }
          builder.append(mapped.row);
          modelVersionIds.add(prediction.modelVersionId);
        }
        after = page.next;
        beat({ stage: 'feedback', rows: builder.rowCount - baseRows });
      } while (after);
      const feedbackRows = builder.rowCount - baseRows;
      if (feedbackRows === 0) throw noLabelledTraffic(input, skipped);

      const parsed = await builder.finish();
      const artifact = await deps.artifacts.put(encodeDatasetArrow(parsed));
      beat({ stage: 'record', rows: parsed.rowCount }, true);
      const source: RetrainDatasetSource = {
        kind: 'retrain',
        baseDatasetVersionId: baseVersion.id,
        baseRows,
        feedback: { endpoint: input.endpointName, from: window.from.toISOString(), to: window.to.toISOString(), rows: feedbackRows, modelVersionIds: [...modelVersionIds].sort(), skipped },
        workflowId: input.workflowId,
      };
      const computed = { baseDatasetVersionId: baseVersion.id, baseRows, feedbackRows, skippedLabels: skipped };

      return deps.db.transaction(async (tx) => {
        // Locks the dataset so two retrains of one dataset number their versions one after the other.
        await tx.select({ id: datasets.id }).from(datasets).where(eq(datasets.id, base.dataset.id)).for('update');
        const [existing] = await tx
          .select()
          .from(datasetVersions)
          .where(and(eq(datasetVersions.datasetId, base.dataset.id), eq(datasetVersions.contentHash, parsed.contentHash)));
        if (existing) return resultOf(existing, base.dataset.name, existing.ingestRunId === input.workflowId, computed);
        const [latest] = await tx.select({ version: max(datasetVersions.version) }).from(datasetVersions).where(eq(datasetVersions.datasetId, base.dataset.id));
        const [inserted] = await tx
          .insert(datasetVersions)
          .values({
            id: newId('dsv'),
            datasetId: base.dataset.id,
            version: (latest?.version ?? 0) + 1,
            contentHash: parsed.contentHash,
            artifactUri: artifact.uri,
            rowCount: parsed.rowCount,
            schema: parsed.schema,
            stats: parsed.stats,
            anomalies: parsed.anomalies,
            source,
            ingestRunId: input.workflowId,
          })
          .returning();
        if (!inserted) throw new Error(`dataset version of ${base.dataset.name} was not written`);
        return resultOf(inserted, base.dataset.name, true, computed);
      });
    },
  };
}
