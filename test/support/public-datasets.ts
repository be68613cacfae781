import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { decodeDatasetArrow, encodeDatasetArrow } from '../../data/columnar';
import { buildDesignMatrix, selectRows, selectValues, type DesignMatrix } from '../../data/design-matrix';
import { readCsvDataset } from '../../data/read-csv';
import { chooseTask, profileValues, targetClasses } from '../../data/target-task';
import type { ModelSpec, TaskChoice } from '../../domain/model';
import { evaluateClassification, evaluateRegression } from '../../ml/metrics';
import { exportOnnx, onnxOutputNames } from '../../ml/onnx-export';
import type { TrainedModel } from '../../ml/trained-model';
import { splitRows } from '../../ml/split';
import { applyStandardisation, computeStandardisation, standardiseTarget } from '../../ml/standardise';
import { buildTfModel, toTrainedModel } from '../../ml/tf-model';
import { trainEpochs } from '../../ml/train-loop';
import { loadOnnxSession, runOnnxModel } from '../../serving/onnx-session';

/**
 * Small public tables: what the quality checks train on, never synthetic data. penguins and cars come from
 * the vega-datasets package; its 3.x releases no longer ship iris, so Fisher's iris is committed as
 * test/fixtures/quality/iris.csv (copied from scikit-learn's bundled copy, class names spelled out).
 */
export const PUBLIC_DATASETS = {
  iris: { file: 'iris.csv', target: 'species', features: ['sepalLength', 'sepalWidth', 'petalLength', 'petalWidth'] },
  penguins: { file: 'penguins.json', target: 'Species', features: ['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)'] },
  cars: { file: 'cars.json', target: 'Miles_per_Gallon', features: ['Cylinders', 'Displacement', 'Horsepower', 'Weight_in_lbs', 'Acceleration'] },
} as const;
export type PublicDatasetName = keyof typeof PUBLIC_DATASETS;

const VEGA_DATA = path.resolve(__dirname, '..', '..', 'node_modules', 'vega-datasets', 'data');
const FIXTURES = path.resolve(__dirname, '..', 'fixtures', 'quality');

/** The table as a CSV upload: the chosen columns, missing values as empty cells. */
export function publicDatasetCsv(name: PublicDatasetName): string {
  const { file, target, features } = PUBLIC_DATASETS[name];
  if (file.endsWith('.csv')) return readFileSync(path.join(FIXTURES, file), 'utf8');
  const rows = JSON.parse(readFileSync(path.join(VEGA_DATA, file), 'utf8')) as Record<string, unknown>[];
  const columns = [...features, target];
  const cell = (v: unknown) => (typeof v === 'number' || typeof v === 'string' ? String(v) : '');
  return [columns.join(','), ...rows.map((r) => columns.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
}

export interface PreparedDataset {
  name: string;
  features: string[];
  task: TaskChoice;
  classes: string[] | null;
  matrix: DesignMatrix;
  split: { train: Uint32Array; test: Uint32Array };
}

/** Through the factory's own data path (CSV parse → Arrow → task inference → design matrix → seeded split). */
export async function preparePublicDataset(name: PublicDatasetName, seed = 42, testFraction = 0.2): Promise<PreparedDataset> {
  const { target, features } = PUBLIC_DATASETS[name];
  return prepareCsvDataset(name, publicDatasetCsv(name), target, features, (n) => splitRows(n, testFraction, seed));
}

/** Any CSV through the same data path; `split` chooses the training and held-out rows by index. */
export async function prepareCsvDataset(
  name: string,
  csv: string,
  target: string,
  features: readonly string[],
  split: (rows: number) => { train: Uint32Array; test: Uint32Array },
): Promise<PreparedDataset> {
  const parsed = await readCsvDataset(() => Readable.from(Buffer.from(csv)));
  const table = decodeDatasetArrow(encodeDatasetArrow(parsed));
  const type = table.schema.find((c) => c.name === target)?.type ?? 'string';
  const values = table.stringColumn(target);
  const task = chooseTask(target, profileValues(values, type), undefined);
  const classes = task.task === 'classification' ? targetClasses(values, type) : null;
  const matrix = buildDesignMatrix(table, [...features], target, classes ? { task: 'classification', classes } : { task: 'regression' });
  return { name, features: [...features], task, classes, matrix, split: split(matrix.n) };
}

export type HoldoutMetrics = { accuracy: number; macroF1: number; logLoss: number } | { rmse: number; mae: number; r2: number };

/** Trains as the fitModel activity does, then scores the exported ONNX graph on the held-out rows. */
export async function fitAndScore(data: PreparedDataset, spec: ModelSpec): Promise<HoldoutMetrics> {
  const tm = await fitModelOn(data, spec, data.split.train);
  return (await scoreOnnx(data, exportOnnx(tm), onnxOutputNames(tm)[0] ?? '', data.split.test)).metrics;
}

/** Trains on the given rows as the fitModel activity does (standardised on them, the spec's seed and epochs). */
export async function fitModelOn(data: PreparedDataset, spec: ModelSpec, rows: Uint32Array): Promise<TrainedModel> {
  const width = data.features.length;
  const rawX = selectRows(data.matrix.x, width, rows);
  const rawY = selectValues(data.matrix.y, rows);
  const standardisation = computeStandardisation(rawX, rows.length, width);
  const scaling = data.classes ? null : standardiseTarget(rawY);
  const model = buildTfModel(spec, width, data.classes ? { task: 'classification', classes: data.classes.length } : { task: 'regression' });
  try {
    await trainEpochs({ model, x: applyStandardisation(rawX, rows.length, standardisation), y: scaling?.y ?? rawY, n: rows.length, inputSize: width, spec, onEpoch: () => Promise.resolve() });
    const meta = { family: spec.type, features: data.features, standardisation };
    return scaling ? toTrainedModel(model, { ...meta, task: 'regression', target: scaling.target }) : toTrainedModel(model, { ...meta, task: 'classification', classes: data.classes ?? [] });
  } finally {
    model.dispose();
  }
}

/** Runs an ONNX graph (as served) on the given rows: its raw outputs and the metrics against their labels. */
export async function scoreOnnx(data: PreparedDataset, onnx: Uint8Array, outputName: string, rows: Uint32Array): Promise<{ outputs: Float32Array; metrics: HoldoutMetrics }> {
  const width = data.features.length;
  const session = await loadOnnxSession(onnx);
  const outputs = await runOnnxModel(session, selectRows(data.matrix.x, width, rows), rows.length, width, outputName);
  const actual = selectValues(data.matrix.y, rows);
  if (!data.classes) return { outputs, metrics: evaluateRegression(actual, outputs) };
  const { accuracy, macroF1, logLoss } = evaluateClassification(actual, outputs, data.classes);
  return { outputs, metrics: { accuracy, macroF1, logLoss } };
}

/** The specs the quality check trains: the defaults a user would plausibly pick, a few more epochs for tiny tables. */
export const QUALITY_RUNS: { dataset: PublicDatasetName; family: ModelSpec['type']; spec: ModelSpec }[] = [
  { dataset: 'iris', family: 'logistic', spec: { type: 'logistic', epochs: 100, learningRate: 0.05, batchSize: 16, hiddenUnits: [], seed: 42, testFraction: 0.2 } },
  { dataset: 'iris', family: 'mlp', spec: { type: 'mlp', epochs: 100, learningRate: 0.02, batchSize: 16, hiddenUnits: [16], seed: 42, testFraction: 0.2 } },
  { dataset: 'penguins', family: 'logistic', spec: { type: 'logistic', epochs: 60, learningRate: 0.05, batchSize: 32, hiddenUnits: [], seed: 42, testFraction: 0.2 } },
  { dataset: 'penguins', family: 'mlp', spec: { type: 'mlp', epochs: 60, learningRate: 0.02, batchSize: 32, hiddenUnits: [16], seed: 42, testFraction: 0.2 } },
  { dataset: 'cars', family: 'linear', spec: { type: 'linear', epochs: 100, learningRate: 0.05, batchSize: 32, hiddenUnits: [], seed: 42, testFraction: 0.2 } },
  { dataset: 'cars', family: 'mlp', spec: { type: 'mlp', epochs: 100, learningRate: 0.01, batchSize: 32, hiddenUnits: [16], seed: 42, testFraction: 0.2 } },
];
