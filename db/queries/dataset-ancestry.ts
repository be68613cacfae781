import { and, eq } from 'drizzle-orm';
import type { Db } from '../client';
import { datasets, datasetVersions } from '../schema';

/** How far a chain of retrain-built versions is followed back: a loop retraining weekly reaches it in five months. */
export const MAX_DATASET_ANCESTRY = 20;

export type DatasetVersionWithName = { version: typeof datasetVersions.$inferSelect; name: string };

export interface DatasetAncestry {
  /** The version first, then each retrain's base in turn, back to an upload (or the depth limit). */
  chain: DatasetVersionWithName[];
  /** True when the limit stopped the walk before an upload was reached. */
  truncated: boolean;
}

/** A dataset version and the versions it was built from, of the project only; at most MAX_DATASET_ANCESTRY of them. */
export async function datasetAncestry(db: Db, projectId: string, datasetVersionId: string, maxDepth = MAX_DATASET_ANCESTRY): Promise<DatasetAncestry> {
  const chain: DatasetVersionWithName[] = [];
  const seen = new Set<string>();
  let next: string | null = datasetVersionId;
  while (next !== null && chain.length < maxDepth && !seen.has(next)) {
    seen.add(next);
    const [row]: DatasetVersionWithName[] = await db
      .select({ version: datasetVersions, name: datasets.name })
      .from(datasetVersions)
      .innerJoin(datasets, eq(datasets.id, datasetVersions.datasetId))
      .where(and(eq(datasetVersions.id, next), eq(datasets.projectId, projectId)));
    if (!row) break;
    chain.push(row);
    next = row.version.source.kind === 'retrain' ? row.version.source.baseDatasetVersionId : null;
  }
  return { chain, truncated: next !== null && chain.length >= maxDepth };
}
