import { and, eq } from 'drizzle-orm';
import type { Db } from '../client';
import { endpoints, feedbackLabels, models, modelVersions, predictions, trainingRuns } from '../schema';
import { UserError } from '../../platform/user-error';
import { datasetAncestry, type DatasetVersionWithName } from './dataset-ancestry';
import { versionNamesByIds } from './models';

/**
 * Where one answer came from: the prediction as logged (with its feedback label), the model version that
 * gave it, that version's training run (spec, code version, workflow) and the dataset version(s) it was trained
 * on with their sources: the version trained on first, then, when a retrain built it, each base version back to
 * the upload; `sources` sums that chain up as the uploads and the labelled production windows that built the
 * model. Only predictions of the caller's project are found.
 */
export async function predictionLineage(db: Db, projectId: string, predictionId: string) {
  const [row] = await db
    .select({ prediction: predictions, endpointName: endpoints.name, label: feedbackLabels.label, labelledAt: feedbackLabels.updatedAt, version: modelVersions, modelName: models.name })
    .from(predictions)
    .innerJoin(endpoints, eq(endpoints.id, predictions.endpointId))
    .innerJoin(modelVersions, eq(modelVersions.id, predictions.modelVersionId))
    .innerJoin(models, eq(models.id, modelVersions.modelId))
    .leftJoin(feedbackLabels, eq(feedbackLabels.predictionId, predictions.id))
    .where(and(eq(predictions.id, predictionId), eq(endpoints.projectId, projectId)));
  if (!row) throw new UserError('prediction_not_found', `There is no prediction "${predictionId.slice(0, 80)}" in this project; use an id a predict answer returned.`, 404, { field: 'predictionId' });

  const { prediction, version } = row;
  const [run] = version.trainingRunId ? await db.select().from(trainingRuns).where(eq(trainingRuns.id, version.trainingRunId)) : [];
  const ancestry = run ? await datasetAncestry(db, projectId, run.datasetVersionId) : { chain: [], truncated: false };
  const datasetRows = ancestry.chain;
  const sources = buildingSources(datasetRows);
  const labelledVersions = await versionNamesByIds(db, sources.feedback.flatMap((window) => window.modelVersionIds));

  return {
    prediction: {
      id: prediction.id,
      endpoint: row.endpointName,
      route: prediction.route,
      at: prediction.createdAt,
      latencyMs: prediction.latencyMs,
      error: prediction.error,
      feedback: row.label === null ? null : { label: row.label, at: row.labelledAt },
    },
    modelVersion: { id: version.id, model: row.modelName, version: version.version, onnxSha256: version.onnxSha256, blessing: version.blessing?.decision ?? null },
    trainingRun: run
      ? { id: run.id, workflowId: run.workflowId, codeVersion: run.codeVersion, task: run.task, spec: run.spec, features: run.features, target: run.target, taskQueue: run.taskQueue, backend: run.backend }
      : null,
    datasetVersions: datasetRows.map(({ version: dv, name }) => ({ id: dv.id, dataset: name, version: dv.version, contentHash: dv.contentHash, rows: dv.rowCount, source: dv.source, at: dv.createdAt })),
    workflows: version.lineage?.workflows ?? null,
    sources: {
      uploads: sources.uploads,
      // Each window names the versions whose labelled answers it added, so a reader sees which model's traffic taught this one.
      feedback: sources.feedback.map((window) => ({ ...window, modelVersions: window.modelVersionIds.map((id) => labelledVersions.get(id) ?? { versionId: id, model: null, version: null }) })),
      truncated: ancestry.truncated,
    },
  };
}

/** The uploads and the labelled production windows in a chain of dataset versions, newest first. */
function buildingSources(chain: DatasetVersionWithName[]) {
  const uploads = [];
  const feedback = [];
  for (const { version: dv, name } of chain) {
    const at = { datasetVersionId: dv.id, dataset: name, version: dv.version };
    if (dv.source.kind === 'upload') uploads.push({ ...at, rows: dv.rowCount, uploadSha256: dv.source.uploadSha256, contentType: dv.source.contentType, bytes: dv.source.bytes, uploadedAt: dv.createdAt });
    else feedback.push({ ...at, ...dv.source.feedback, retrainWorkflowId: dv.source.workflowId });
  }
  return { uploads, feedback };
}
