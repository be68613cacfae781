import { createHash } from 'node:crypto';
import { and, eq, max } from 'drizzle-orm';
import { onnx } from 'onnx-proto';
import type { ArtifactStore } from '../../artifacts/store';
import type { Db } from '../../db/client';
import { datasets, datasetVersions, endpoints, models, modelVersions, trainingRuns } from '../../db/schema';
import type { ModelOutputSchema } from '../../db/schema/models';
import type { InfraValidationRecord } from '../../domain/infra-validation';
import type { Blessing, ClassificationReport, RegressionReport } from '../../domain/model';
import { exportOnnx } from '../../ml/onnx-export';
import { newId } from '../../platform/ids';
import { goodClassifier, nanOnnx } from './onnx-graphs';
import type { TestFactory } from './test-factory';

/** The two-class output of every classifier built here (goodClassifier's classes). */
export const BINARY_OUTPUT: ModelOutputSchema = { name: 'probabilities', task: 'classification', classes: ['no', 'yes'], labelType: 'string' };

export interface RegisteredCandidate {
  modelVersionId: string;
  model: string;
  version: number;
}

export interface CandidateSpec {
  model: string;
  features: string[];
  outputSchema?: ModelOutputSchema;
  /** A real dataset version the training run was on (its target column named), instead of a stand-in. */
  trainedOn?: { datasetVersionId: string; target: string };
  /** Default: blessed with no thresholds. */
  blessing?: Blessing;
  /** Default: passed; null: never infra-validated. */
  infraValidation?: InfraValidationRecord | null;
}

const PASSED_INFRA_VALIDATION: InfraValidationRecord = { passed: true, rows: 32, latencyCalls: 50, p50Ms: 0.1, p99Ms: 0.5, maxMs: 1, latencyBudgetMs: 50, at: '2026-01-01T00:00:00.000Z' };

/** Where a candidate is registered: a TestFactory, or just a database and an artifact store. */
export type CandidateHome = Pick<TestFactory, 'projectId'> & { database: { db: Db }; factory: { artifacts: ArtifactStore } };

/**
 * Registers ONNX bytes as the next version of `model`, as the register stage would: the bytes in the artifact
 * store, a model row (created on first use) and a version row with schemas, evaluation, blessing and card.
 * The dataset version and training run it points to are stand-ins (a version row needs both).
 */
export async function registerCandidate(t: CandidateHome, onnxBytes: Uint8Array, spec: CandidateSpec): Promise<RegisteredCandidate> {
  const stored = await t.factory.artifacts.put(onnxBytes);
  return insertModelVersion(t.database.db, { projectId: t.projectId, onnxUri: stored.uri, onnxSha256: stored.sha256, ...spec });
}

/** The rows of registerCandidate without the artifact store: for tests that never load the model. */
export async function insertModelVersion(db: Db, input: CandidateSpec & { projectId: string; onnxUri?: string; onnxSha256?: string }): Promise<RegisteredCandidate> {
  const outputSchema = input.outputSchema ?? BINARY_OUTPUT;
  const regression = outputSchema.name === 'value';
  const onnxSha256 = input.onnxSha256 ?? createHash('sha256').update(newId('fake')).digest('hex');
  const onnxUri = input.onnxUri ?? `artifact://sha256/${onnxSha256}`;
  return db.transaction(async (tx) => {
    const [dataset] = await tx
      .insert(datasets)
      .values({ id: newId('ds'), projectId: input.projectId, name: `${input.model}-candidates` })
      .onConflictDoUpdate({ target: [datasets.projectId, datasets.name], set: { name: `${input.model}-candidates` } })
      .returning();
    if (!dataset) throw new Error('dataset was not written');
    const datasetVersionId = input.trainedOn?.datasetVersionId ?? newId('dsv');
    const [latestDataset] = await tx.select({ version: max(datasetVersions.version) }).from(datasetVersions).where(eq(datasetVersions.datasetId, dataset.id));
    if (!input.trainedOn) {
      await tx.insert(datasetVersions).values({
        id: datasetVersionId,
        datasetId: dataset.id,
        version: (latestDataset?.version ?? 0) + 1,
        contentHash: createHash('sha256').update(datasetVersionId).digest('hex'),
        artifactUri: onnxUri,
        rowCount: 0,
        schema: input.features.map((name) => ({ name, type: 'number' as const, nullable: false })),
        stats: [],
        anomalies: [],
        source: { kind: 'upload', contentType: 'text/csv', bytes: 0, uploadSha256: onnxSha256 },
        ingestRunId: `test:${datasetVersionId}`,
      });
    }
    const evaluation = regression ? REGRESSION_REPORT : CLASSIFICATION_REPORT;
    const runId = newId('run');
    await tx.insert(trainingRuns).values({
      id: runId,
      projectId: input.projectId,
      datasetVersionId,
      workflowId: `test-candidate-${runId}`,
      target: input.trainedOn?.target ?? (outputSchema.name === 'value' ? outputSchema.target : 'label'),
      features: input.features,
      task: regression ? 'regression' : 'classification',
      classes: outputSchema.name === 'value' ? null : outputSchema.classes,
      spec: { type: regression ? 'linear' : 'logistic', epochs: 1, learningRate: 0.1, batchSize: 32, hiddenUnits: [], seed: 1, testFraction: 0.2 },
      taskQueue: 'test',
      status: 'succeeded',
      codeVersion: 'test',
      evaluation,
    });
    const [model] = await tx
      .insert(models)
      .values({ id: newId('mdl'), projectId: input.projectId, name: input.model })
      .onConflictDoUpdate({ target: [models.projectId, models.name], set: { name: input.model } })
      .returning();
    if (!model) throw new Error(`model ${input.model} was not written`);
    const [latest] = await tx.select({ version: max(modelVersions.version) }).from(modelVersions).where(eq(modelVersions.modelId, model.id));
    const version = (latest?.version ?? 0) + 1;
    const id = newId('mv');
    const blessing: Blessing = { decision: 'blessed', thresholds: { minAccuracy: 0 }, champion: null, reasons: [] };
    await tx.insert(modelVersions).values({
      id,
      modelId: model.id,
      version,
      trainingRunId: runId,
      datasetVersionId,
      onnxUri,
      onnxSha256,
      inputSchema: { name: 'features', features: input.features },
      outputSchema,
      evaluation,
      blessing: input.blessing ?? blessing,
      // As a pipeline leaves it: blessed and infra-validated, so the serving guard lets it serve.
      infraValidation: input.infraValidation === undefined ? PASSED_INFRA_VALIDATION : input.infraValidation,
      modelCard: { model: input.model, version, note: 'registered by a test' },
    });
    return { modelVersionId: id, model: model.name, version };
  });
}

/** An endpoint serving `stableVersionId` at 100 %, written directly (the deploy stage's end state). */
export async function insertEndpoint(db: Db, input: { projectId: string; name: string; stableVersionId: string }): Promise<string> {
  const id = newId('ep');
  await db.insert(endpoints).values({ id, projectId: input.projectId, name: input.name, stableVersionId: input.stableVersionId, status: 'live' });
  const [row] = await db.select({ id: endpoints.id }).from(endpoints).where(and(eq(endpoints.projectId, input.projectId), eq(endpoints.name, input.name)));
  return row?.id ?? id;
}

const SPLIT = { testFraction: 0.2, seed: 1, rows: 100 };
const PARITY = { rows: 20, maxAbsDiff: 0, tolerance: 1e-4 };
const CLASSIFICATION_REPORT: ClassificationReport = { task: 'classification', split: SPLIT, parity: PARITY, accuracy: 0.9, rocAuc: 0.95, logLoss: 0.3 };
const REGRESSION_REPORT: RegressionReport = { task: 'regression', split: SPLIT, parity: PARITY, rmse: 1, mae: 0.8, r2: 0.9 };

/** goodClassifier's features, in order. */
export const CANDIDATE_FEATURES = ['f0', 'f1'];

/** goodClassifier with its bias pushed far up: every ordinary record comes out "yes" with probability near 1. */
export const shiftedClassifier = (bias = 8): Uint8Array => exportOnnx(goodClassifier(bias));

/** A classifier whose weights went NaN: it loads and runs, and every probability is NaN. */
export const failingClassifier = (): Uint8Array => nanOnnx(CANDIDATE_FEATURES.length);

/**
 * goodClassifier's answers, slowly: a side branch widens each record to `rowsPerRecord` × 512 values and runs
 * them through `layers` chained 512×512 MatMuls (one shared weight, so the file stays small), then adds its mean
 * times zero to the probabilities. The answers are the good classifier's; a one-row call costs
 * rowsPerRecord·layers·512² multiply-adds (≈ 6.4 G with the defaults: 70-110 ms on two idle cores where this was written, slower under load, which only helps).
 */
export function slowClassifier(opts: { rowsPerRecord?: number; layers?: number } = {}): Uint8Array {
  const rowsPerRecord = opts.rowsPerRecord ?? 512;
  const layers = opts.layers ?? 48;
  const width = CANDIDATE_FEATURES.length;
  const model = onnx.ModelProto.decode(exportOnnx(goodClassifier()));
  const graph = model.graph;
  if (!graph) throw new Error('exported model has no graph');
  const nodes = (graph.node ??= []);
  const initializers = (graph.initializer ??= []);
  const pair = nodes.find((n) => n.output?.includes('probabilities'));
  if (!pair?.output) throw new Error('exported classifier has no probabilities node');
  pair.output = ['probabilities.fast'];

  const hidden = 512;
  initializers.push(
    floatTensor('slow.widen', [width, rowsPerRecord * hidden], new Array<number>(width * rowsPerRecord * hidden).fill(1 / width)),
    floatTensor('slow.weight', [hidden, hidden], new Array<number>(hidden * hidden).fill(1 / hidden)),
    int64Tensor('slow.rows', [2], [-1, hidden]),
    int64Tensor('slow.back', [2], [-1, rowsPerRecord * hidden]),
    floatTensor('slow.zero', [1], [0]),
  );
  nodes.push(
    { name: 'slow.widen', opType: 'MatMul', input: ['features', 'slow.widen'], output: ['slow.wide'] },
    { name: 'slow.rows', opType: 'Reshape', input: ['slow.wide', 'slow.rows'], output: ['slow.h0'] },
  );
  for (let i = 0; i < layers; i++) {
    nodes.push({ name: `slow.matmul${i}`, opType: 'MatMul', input: [`slow.h${i}`, 'slow.weight'], output: [`slow.h${i + 1}`] });
  }
  nodes.push(
    { name: 'slow.back', opType: 'Reshape', input: [`slow.h${layers}`, 'slow.back'], output: ['slow.perRecord'] },
    { name: 'slow.mean', opType: 'ReduceMean', input: ['slow.perRecord'], output: ['slow.mean'], attribute: [{ name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: [1] }] },
    { name: 'slow.nothing', opType: 'Mul', input: ['slow.mean', 'slow.zero'], output: ['slow.nothing'] },
    { name: 'slow.join', opType: 'Add', input: ['probabilities.fast', 'slow.nothing'], output: ['probabilities'] },
  );
  return onnx.ModelProto.encode(model).finish();
}

function floatTensor(name: string, dims: number[], values: number[]): onnx.ITensorProto {
  const raw = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => raw.writeFloatLE(v, i * 4));
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: raw };
}

function int64Tensor(name: string, dims: number[], values: number[]): onnx.ITensorProto {
  const raw = Buffer.alloc(values.length * 8);
  values.forEach((v, i) => raw.writeBigInt64LE(BigInt(v), i * 8));
  return { name, dims, dataType: onnx.TensorProto.DataType.INT64, rawData: raw };
}
