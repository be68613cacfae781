import { and, eq } from 'drizzle-orm';
import type { ArtifactStore } from '../../artifacts/store';
import type { Db } from '../../db/client';
import { notifyEndpointChanged } from '../../db/queries/endpoints';
import { datasets, datasetVersions, endpoints, models, modelVersions, trainingRuns } from '../../db/schema';
import type { ModelOutputSchema } from '../../db/schema/models';
import type { Blessing, EvaluationReport } from '../../domain/model';
import { exportOnnx } from '../../ml/onnx-export';
import { newId } from '../../platform/ids';
import { goodClassifier } from './onnx-graphs';

export const BINARY_OUTPUT: ModelOutputSchema = { name: 'probabilities', classes: ['no', 'yes'], labelType: 'string' };

/** A binary classifier on `width` features f0..f(width-1); `bias` makes versions distinguishable by their answers. */
export function classifierOnnx(bias: number, width: number): { onnx: Uint8Array; features: string[] } {
  const model = goodClassifier(bias, width);
  return { onnx: exportOnnx(model), features: model.features };
}

/**
 * Registers a model version straight from ONNX bytes, with the dataset and training run rows its foreign keys need,
 * as the registry would after a pipeline: what serving tests need without training a model.
 */
export async function registerOnnxVersion(
  db: Db,
  artifacts: ArtifactStore,
  input: { projectId: string; model: string; onnx: Uint8Array; features: string[]; outputSchema?: ModelOutputSchema },
): Promise<{ id: string; model: string; version: number }> {
  const stored = await artifacts.put(input.onnx);
  const datasetId = newId('ds');
  const datasetVersionId = newId('dsv');
  const runId = newId('run');
  await db.insert(datasets).values({ id: datasetId, projectId: input.projectId, name: `fixture-${datasetId}` });
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
  await db.insert(trainingRuns).values({
    id: runId,
    projectId: input.projectId,
    datasetVersionId,
    workflowId: `fixture-${runId}`,
    target: 'y',
    features: input.features,
    spec: { type: 'logistic', epochs: 1, learningRate: 0.1, batchSize: 32, hiddenUnits: [], seed: 1, testFraction: 0.2 },
    taskQueue: 'fixture',
    status: 'succeeded',
    codeVersion: 'fixture',
  });
  await db.insert(models).values({ id: newId('mdl'), projectId: input.projectId, name: input.model }).onConflictDoNothing();
  const [model] = await db.select().from(models).where(and(eq(models.projectId, input.projectId), eq(models.name, input.model)));
  if (!model) throw new Error(`model ${input.model} was not written`);
  const existing = await db.select({ version: modelVersions.version }).from(modelVersions).where(eq(modelVersions.modelId, model.id));
  const version = Math.max(0, ...existing.map((v) => v.version)) + 1;
  const id = newId('mv');
  await db.insert(modelVersions).values({
    id,
    modelId: model.id,
    version,
    trainingRunId: runId,
    datasetVersionId,
    onnxUri: stored.uri,
    onnxSha256: stored.sha256,
    inputSchema: { name: 'features', features: input.features },
    outputSchema: input.outputSchema ?? BINARY_OUTPUT,
    evaluation: {} as EvaluationReport,
    blessing: { decision: 'blessed', thresholds: { minAccuracy: 0 }, champion: null, reasons: [] } as Blessing,
    modelCard: {},
  });
  return { id, model: input.model, version };
}

/** Sets an endpoint's traffic and notifies the data plane in one transaction, as a deploy or the rollout controller does. */
export async function setEndpointTraffic(
  db: Db,
  input: { projectId: string; endpoint: string; stable: string | null; canary?: string | null; canaryWeight?: number; shadow?: string | null },
): Promise<string> {
  return db.transaction(async (tx) => {
    const traffic = { stableVersionId: input.stable, canaryVersionId: input.canary ?? null, canaryWeight: input.canaryWeight ?? 0, shadowVersionId: input.shadow ?? null, updatedAt: new Date() };
    const [row] = await tx
      .insert(endpoints)
      .values({ id: newId('ep'), projectId: input.projectId, name: input.endpoint, status: 'live', ...traffic })
      .onConflictDoUpdate({ target: [endpoints.projectId, endpoints.name], set: traffic })
      .returning({ id: endpoints.id });
    if (!row) throw new Error(`endpoint ${input.endpoint} was not written`);
    await notifyEndpointChanged(tx, row.id);
    return row.id;
  });
}
