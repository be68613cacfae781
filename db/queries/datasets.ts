import { and, desc, eq } from 'drizzle-orm';
import type { Db } from '../client';
import { datasets, datasetVersions } from '../schema';
import { UserError } from '../../platform/user-error';

export type DatasetRow = typeof datasets.$inferSelect;
export type DatasetVersionRow = typeof datasetVersions.$inferSelect;

export async function findDataset(db: Db, projectId: string, name: string): Promise<DatasetRow> {
  const [dataset] = await db.select().from(datasets).where(and(eq(datasets.projectId, projectId), eq(datasets.name, name)));
  if (!dataset) {
    throw new UserError('dataset_not_found', `There is no dataset named "${name.slice(0, 80)}"; upload one with POST /v1/datasets/{name}/versions.`, 404, {
      field: 'dataset',
    });
  }
  return dataset;
}

/** A version number, or "latest". */
export async function findDatasetVersion(db: Db, dataset: DatasetRow, version: string | number): Promise<DatasetVersionRow> {
  const latest = version === 'latest';
  const number = Number(version);
  if (!latest && !(Number.isInteger(number) && number > 0)) {
    throw new UserError('invalid_dataset_version', `Dataset version must be a positive integer or "latest" (got "${String(version).slice(0, 40)}").`, 400, { field: 'version' });
  }
  const [row] = await db
    .select()
    .from(datasetVersions)
    .where(latest ? eq(datasetVersions.datasetId, dataset.id) : and(eq(datasetVersions.datasetId, dataset.id), eq(datasetVersions.version, number)))
    .orderBy(desc(datasetVersions.version))
    .limit(1);
  if (!row) {
    throw new UserError('dataset_version_not_found', `Dataset "${dataset.name}" has no version ${String(version)}.`, 404, { field: 'version' });
  }
  return row;
}

/** A dataset version by id, as workflows pass it; a 404 user error when it is gone. */
export async function getDatasetVersion(db: Db, id: string): Promise<DatasetVersionRow> {
  const [version] = await db.select().from(datasetVersions).where(eq(datasetVersions.id, id));
  if (!version) throw new UserError('dataset_version_not_found', `Dataset version ${id} does not exist.`, 404);
  return version;
}

export async function listDatasets(db: Db, projectId: string): Promise<DatasetRow[]> {
  return db.select().from(datasets).where(eq(datasets.projectId, projectId)).orderBy(datasets.name);
}

export async function listDatasetVersions(db: Db, datasetId: string): Promise<DatasetVersionRow[]> {
  return db.select().from(datasetVersions).where(eq(datasetVersions.datasetId, datasetId)).orderBy(desc(datasetVersions.version));
}
