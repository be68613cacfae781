import { eq } from 'drizzle-orm';
import { getDatasetVersion } from '../../db/queries/datasets';
import { trainingRuns } from '../../db/schema';
import { splitRows } from '../../ml/split';
import { splitByPlace, splitPlaces } from '../../data/row-split';
import { UserError } from '../../platform/user-error';
import type { ActivityDeps } from '../deps';
import { decodeDatasetArrow } from '../../data/columnar';
import type { DatasetTable } from '../../data/dataset-schema';
import { buildDesignMatrix, type DesignMatrix, type TargetEncoding } from '../../data/design-matrix';

export type TrainingRunRow = typeof trainingRuns.$inferSelect;

export interface TrainingData {
  run: TrainingRunRow;
  table: DatasetTable;
  matrix: DesignMatrix;
  /** Row indices into `matrix`: the run's recorded split, the same in training and in evaluation. */
  split: { train: Uint32Array; test: Uint32Array };
}

export async function loadTrainingRun(deps: ActivityDeps, trainingRunId: string): Promise<TrainingRunRow> {
  const [run] = await deps.db.select().from(trainingRuns).where(eq(trainingRuns.id, trainingRunId));
  if (!run) throw new UserError('training_run_not_found', `Training run ${trainingRunId} does not exist.`, 404);
  return run;
}

export async function loadTrainingData(deps: ActivityDeps, trainingRunId: string): Promise<TrainingData> {
  const run = await loadTrainingRun(deps, trainingRunId);
  const version = await getDatasetVersion(deps.db, run.datasetVersionId);
  const table = decodeDatasetArrow(await deps.artifacts.get(version.artifactUri));
  const matrix = buildDesignMatrix(table, run.features, run.target, targetEncoding(run));
  if (matrix.n < 10) {
    throw new UserError(
      'too_few_rows',
      `Only ${matrix.n} rows have every feature and the target filled in; at least 10 are needed to train and evaluate.`,
      422,
      { rows: matrix.n },
    );
  }
  return { run, table, matrix, split: splitOfRun(run, table, matrix) };
}

/** The run's recorded hash split, or for runs recorded before it the seeded shuffle they were trained with. */
export function splitOfRun(run: TrainingRunRow, table: DatasetTable, matrix: DesignMatrix): { train: Uint32Array; test: Uint32Array } {
  if (!run.split) return splitRows(matrix.n, run.spec.testFraction, run.spec.seed);
  return splitByPlace(splitPlaces(table, run.split, run.target, run.features, matrix.sourceRows), run.split.testBelow);
}

/** How this run turns its target into `y`. */
export function targetEncoding(run: TrainingRunRow): TargetEncoding {
  return run.task === 'regression' ? { task: 'regression' } : { task: 'classification', classes: run.classes ?? [] };
}
