import { eq } from 'drizzle-orm';
import { decodeDatasetArrow } from '../../data/columnar';
import type { DatasetTable } from '../../data/dataset-schema';
import { buildDesignMatrix } from '../../data/design-matrix';
import { contentColumns, rowPlaces, splitPlaces } from '../../data/row-split';
import { getDatasetVersion } from '../../db/queries/datasets';
import { trainingRuns } from '../../db/schema';
import { splitRows } from '../../ml/split';
import type { ActivityDeps } from '../deps';
import { targetEncoding } from '../train/load-training-data';

/** Per held-out row: did the champion train on it; or why that cannot be known. */
export type ChampionTrainingRows = { trained: Uint8Array; why: string } | { unknown: string };

/**
 * Which of the candidate's held-out rows (`sourceRows` of `table`) the champion trained on, from its recorded run:
 * a hash split is re-derived from each row's values; a shuffled split (runs from before) is replayed on the
 * champion's own dataset version and its training rows are matched to these rows by content.
 */
export async function championTrainingRows(deps: ActivityDeps, trainingRunId: string | null, label: string, table: DatasetTable, sourceRows: Uint32Array): Promise<ChampionTrainingRows> {
  const [run] = trainingRunId ? await deps.db.select().from(trainingRuns).where(eq(trainingRuns.id, trainingRunId)) : [];
  if (!run) return { unknown: `the champion ${label} was not trained here, so the rows it learnt from are unknown` };
  const names = new Set(table.schema.map((c) => c.name));
  const content = contentColumns(run.target, run.features);
  const absent = content.filter((c) => !names.has(c));
  if (absent.length > 0) return { unknown: `the champion ${label} learnt from ${absent.join(', ')}, which this dataset version lacks, so the rows it learnt from are unknown` };
  if (run.split) {
    const { key, testBelow } = run.split;
    if (key !== null && !names.has(key)) return { unknown: `the champion ${label} was split by column ${key}, which this dataset version lacks, so the rows it learnt from are unknown` };
    const places = splitPlaces(table, run.split, run.target, run.features, sourceRows);
    const by = key === null ? "the row's content" : `column ${key}`;
    return { trained: Uint8Array.from(places, (p) => (p < testBelow ? 0 : 1)), why: `in the champion ${label}'s training split (hash of ${by})` };
  }
  let own: DatasetTable;
  try {
    own = decodeDatasetArrow(await deps.artifacts.get((await getDatasetVersion(deps.db, run.datasetVersionId)).artifactUri));
  } catch (err) {
    return { unknown: `the champion ${label}'s training data could not be read (${err instanceof Error ? err.message : String(err)}), so the rows it learnt from are unknown` };
  }
  const matrix = buildDesignMatrix(own, run.features, run.target, targetEncoding(run));
  const { train } = splitRows(matrix.n, run.spec.testFraction, run.spec.seed);
  // Rows are matched by their values: 52 bits of sha256 each, so two different rows collide with negligible odds.
  const learnt = new Set(rowPlaces(own, content, Uint32Array.from(train, (i) => matrix.sourceRows[i] as number)));
  return { trained: Uint8Array.from(rowPlaces(table, content, sourceRows), (p) => (learnt.has(p) ? 1 : 0)), why: `in the champion ${label}'s training rows (its shuffled split, matched by content)` };
}
