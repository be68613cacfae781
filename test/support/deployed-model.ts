import { and, eq } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { datasets, datasetVersions, endpoints, models, modelVersions, trainingRuns, type ModelOutputSchema } from '../../db/schema';
import type { Blessing, EvaluationReport } from '../../domain/model';
import { exportOnnx } from '../../ml/onnx-export';
import type { TrainedModel } from '../../ml/trained-model';
import { newId } from '../../platform/ids';
import type { TestFactory } from './test-factory';

/** The output schema the register stage writes for a trained model. */
function outputSchemaOf(tm: TrainedModel, labelType: 'number' | 'string'): ModelOutputSchema {
  return tm.task === 'regression' ? { name: 'value', task: 'regression', target: 'y' } : { name: 'probabilities', task: 'classification', classes: tm.classes, labelType };
}

/**
 * Registers `tm` (exported to ONNX as the pipeline does) as the next version of `model`, with the rows a
 * pipeline would have left (dataset version, training run), without training: protocol tests need exact
 * weights, not a learnt model. Returns the model version's id and number.
 */
export async function registerVersion(t: TestFactory, model: string, tm: TrainedModel, opts: { labelType?: 'number' | 'string' } = {}): Promise<{ id: string; version: number }> {
  const db: Db = t.database.db;
  const stored = await t.factory.artifacts.put(exportOnnx(tm));
  const datasetId = newId('ds');
  const datasetVersionId = newId('dsv');
  await db.insert(datasets).values({ id: datasetId, projectId: t.projectId, name: `${model}-${datasetId.slice(-6)}` });
  await db.insert(datasetVersions).values({
    id: datasetVersionId,
    datasetId,
    version: 1,
    contentHash: datasetVersionId,
    artifactUri: stored.uri,
    rowCount: 0,
    schema: [],
    stats: [],
    anomalies: [],
    source: { kind: 'upload', contentType: 'text/csv', bytes: 0, uploadSha256: datasetVersionId },
    ingestRunId: datasetVersionId,
  });
  const runId = newId('run');
  await db.insert(trainingRuns).values({
    id: runId,
    projectId: t.projectId,
    datasetVersionId,
    workflowId: `test/${runId}`,
    target: 'y',
    features: tm.features,
    task: tm.task,
    classes: tm.task === 'classification' ? tm.classes : null,
    spec: { type: tm.family, hiddenUnits: [], epochs: 1, learningRate: 0.01, batchSize: 8, seed: 1, testFraction: 0.2 },
    taskQueue: t.taskQueues.cpu,
    status: 'succeeded',
    codeVersion: 'test',
  });
  let [modelRow] = await db.select().from(models).where(and(eq(models.projectId, t.projectId), eq(models.name, model)));
  if (!modelRow) [modelRow] = await db.insert(models).values({ id: newId('mdl'), projectId: t.projectId, name: model }).returning();
  const existing = await db.select({ version: modelVersions.version }).from(modelVersions).where(eq(modelVersions.modelId, modelRow?.id ?? ''));
  const version = existing.length + 1;
  const id = newId('mv');
  await db.insert(modelVersions).values({
    id,
    modelId: modelRow?.id ?? '',
    version,
    trainingRunId: runId,
    datasetVersionId,
    onnxUri: stored.uri,
    onnxSha256: stored.sha256,
    inputSchema: { name: 'features', features: tm.features },
    outputSchema: outputSchemaOf(tm, opts.labelType ?? 'string'),
    evaluation: {} as EvaluationReport,
    blessing: {} as Blessing,
    modelCard: {},
  });
  return { id, version };
}

/** Points endpoint `name` at the given versions (creating it), as a deploy or a rollout step would leave it. */
export async function setEndpointTraffic(t: TestFactory, name: string, traffic: { stable: string | null; canary?: string; canaryWeight?: number; shadow?: string }): Promise<void> {
  const values = { stableVersionId: traffic.stable, canaryVersionId: traffic.canary ?? null, canaryWeight: traffic.canaryWeight ?? 0, shadowVersionId: traffic.shadow ?? null };
  const [existing] = await t.database.db.select().from(endpoints).where(and(eq(endpoints.projectId, t.projectId), eq(endpoints.name, name)));
  if (existing) await t.database.db.update(endpoints).set(values).where(eq(endpoints.id, existing.id));
  else await t.database.db.insert(endpoints).values({ id: newId('ep'), projectId: t.projectId, name, status: 'live', ...values });
}
