import { desc, eq } from 'drizzle-orm';
import type { Db } from '../client';
import { datasetVersions, modelVersions, trainingRuns } from '../schema';
import type { ColumnSchema, ColumnStats } from '../../domain/dataset';
import type { Task } from '../../domain/model';

export interface PolicyTrainingContext {
  task: Task;
  taskReason: string | null;
  target: string;
  schema: ColumnSchema[];
  stats: ColumnStats[];
}

/** The task and dataset columns of a model's newest version: what its policy's thresholds, slices and fairness are checked against. */
export async function latestTrainingOf(db: Db, modelId: string): Promise<PolicyTrainingContext | null> {
  const [row] = await db
    .select({ task: trainingRuns.task, taskReason: trainingRuns.taskReason, target: trainingRuns.target, schema: datasetVersions.schema, stats: datasetVersions.stats })
    .from(modelVersions)
    .innerJoin(trainingRuns, eq(trainingRuns.id, modelVersions.trainingRunId))
    .innerJoin(datasetVersions, eq(datasetVersions.id, trainingRuns.datasetVersionId))
    .where(eq(modelVersions.modelId, modelId))
    .orderBy(desc(modelVersions.version))
    .limit(1);
  return row ?? null;
}
