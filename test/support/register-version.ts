import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { datasets, datasetVersions, models, modelVersions, trainingRuns } from '../../db/schema';
import { newId } from '../../platform/ids';
import type { TestFactory } from './test-factory';

/**
 * Registers a model version straight from ONNX bytes (a two-feature binary classifier on f0, f1, as
 * test/support/onnx-graphs.ts builds them), with the dataset and training-run rows its foreign keys need.
 * Rollout tests use it to make candidates without training; the version number is the model's next.
 */
export async function registerOnnxVersion(t: TestFactory, modelName: string, onnx: Uint8Array): Promise<{ versionId: string; version: number }> {
  const db = t.database.db;
  const stored = await t.factory.artifacts.put(onnx);
  const [dataset] = await db
    .insert(datasets)
    .values({ id: newId('ds'), projectId: t.projectId, name: 'registered-onnx' })
    .onConflictDoUpdate({ target: [datasets.projectId, datasets.name], set: { name: 'registered-onnx' } })
    .returning();
  if (!dataset) throw new Error('dataset row not written');
  const datasetVersionId = newId('dsv');
  const [{ n } = { n: 0 }] = await db.select({ n: sql<number>`count(*)::int` }).from(datasetVersions).where(eq(datasetVersions.datasetId, dataset.id));
  await db.insert(datasetVersions).values({
    id: datasetVersionId,
    datasetId: dataset.id,
    version: n + 1,
    contentHash: randomUUID(),
    artifactUri: stored.uri,
    rowCount: 0,
    schema: [],
    stats: [],
    anomalies: [],
    source: { kind: 'upload', contentType: 'application/octet-stream', bytes: stored.bytes, uploadSha256: stored.sha256 },
    ingestRunId: randomUUID(),
  });
  const trainingRunId = newId('run');
  await db.insert(trainingRuns).values({
    id: trainingRunId,
    projectId: t.projectId,
    datasetVersionId,
    workflowId: `registered-${randomUUID()}`,
    target: 'label',
    features: ['f0', 'f1'],
    classes: ['no', 'yes'],
    spec: { type: 'logistic', epochs: 1, learningRate: 0.1, batchSize: 8, hiddenUnits: [], seed: 1, testFraction: 0.2 },
    taskQueue: t.taskQueues.cpu,
    status: 'succeeded',
    codeVersion: 'test',
  });
  const [model] = await db
    .insert(models)
    .values({ id: newId('mdl'), projectId: t.projectId, name: modelName })
    .onConflictDoUpdate({ target: [models.projectId, models.name], set: { name: modelName } })
    .returning();
  if (!model) throw new Error('model row not written');
  const [{ last } = { last: 0 }] = await db.select({ last: sql<number>`coalesce(max(${modelVersions.version}), 0)::int` }).from(modelVersions).where(and(eq(modelVersions.modelId, model.id)));
  const versionId = newId('mv');
  await db.insert(modelVersions).values({
    id: versionId,
    modelId: model.id,
    version: last + 1,
    trainingRunId,
    datasetVersionId,
    onnxUri: stored.uri,
    onnxSha256: stored.sha256,
    inputSchema: { name: 'features', features: ['f0', 'f1'] },
    outputSchema: { name: 'probabilities', classes: ['no', 'yes'], labelType: 'string' },
    evaluation: {} as never,
    blessing: { decision: 'blessed', thresholds: { minAccuracy: 0 }, champion: null, reasons: [] },
    modelCard: {},
  });
  return { versionId, version: last + 1 };
}
