import { and, eq } from 'drizzle-orm';
import type { Db } from '../client';
import { datasets, datasetVersions, models, modelVersions, trainingRuns } from '../schema';
import { UserError } from '../../platform/user-error';

/** What a retrain starts from: the base model version's training run and the dataset version it trained on. */
export async function findRetrainBase(db: Db, projectId: string, modelVersionId: string) {
  const [row] = await db
    .select({ run: trainingRuns, datasetVersion: datasetVersions, dataset: datasets })
    .from(modelVersions)
    .innerJoin(models, eq(models.id, modelVersions.modelId))
    .innerJoin(trainingRuns, eq(trainingRuns.id, modelVersions.trainingRunId))
    .innerJoin(datasetVersions, eq(datasetVersions.id, trainingRuns.datasetVersionId))
    .innerJoin(datasets, eq(datasets.id, datasetVersions.datasetId))
    .where(and(eq(modelVersions.id, modelVersionId), eq(models.projectId, projectId)));
  if (!row) {
    throw new UserError('model_version_not_found', `There is no model version "${modelVersionId.slice(0, 80)}" in this project to retrain from.`, 404, { field: 'baseModelVersionId' });
  }
  return row;
}
