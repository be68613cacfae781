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
  name: PublicDatasetName;
  features: string[];
  task: TaskChoice;
  classes: string[] | null;
  matrix: DesignMatrix;
  split: { train: Uint32Array; test: Uint32Array };
}

/** Through the factory's own data path (CSV parse → Arrow → task inference → design matrix → seeded split). */
export async function preparePublicDataset(name: PublicDatasetName, seed = 42, testFraction = 0.2): Promise<PreparedDataset> {
  const { target, features } = PUBLIC_DATASETS[name];
  const parsed = await readCsvDataset(() => Readable.from(Buffer.from(publicDatasetCsv(name))));
  const table = decodeDatasetArrow(encodeDatasetArrow(parsed));
  const type = table.schema.find((c) => c.name === target)?.type ?? 'string';
  const values = table.stringColumn(target);
  const task = chooseTask(target, profileValues(values, type), undefined);
  const classes = task.task === 'classification' ? targetClasses(values, type) : null;
  const matrix = buildDesignMatrix(table, [...features], target, classes ? { task: 'classification', classes } : { task: 'regression' });
  return { name, features: [...features], task, classes, matrix, split: splitRows(matrix.n, testFraction, seed) };
}

export type HoldoutMetrics = { accuracy: number; macroF1: number; logLoss: number } | { rmse: number; mae: number; r2: number };

/** Trains as the fitModel activity does, then scores the exported ONNX graph on the held-out rows. */
export async function fitAndScore(data: PreparedDataset, spec: ModelSpec): Promise<HoldoutMetrics> {
  const width = data.features.length;
  const { train, test } = data.split;
  const rawX = selectRows(data.matrix.x, width, train);
  const rawY = selectValues(data.matrix.y, train);
  const standardisation = computeStandardisation(rawX, train.length, width);
  const scaling = data.classes ? null : standardiseTarget(rawY);
  const model = buildTfModel(spec, width, data.classes ? { task: 'classification', classes: data.classes.length } : { task: 'regression' });
  try {
    await trainEpochs({ model, x: applyStandardisation(rawX, train.length, standardisation), y: scaling?.y ?? rawY, n: train.length, inputSize: width, spec, onEpoch: () => Promise.resolve() });
    const meta = { family: spec.type, features: data.features, standardisation };
    const tm = scaling ? toTrainedModel(model, { ...meta, task: 'regression', target: scaling.target }) : toTrainedModel(model, { ...meta, task: 'classification', classes: data.classes ?? [] });
    const session = await loadOnnxSession(exportOnnx(tm));
    const outputs = await runOnnxModel(session, selectRows(data.matrix.x, width, test), test.length, width, onnxOutputNames(tm)[0] ?? '');
    const actual = selectValues(data.matrix.y, test);
    if (!data.classes) return evaluateRegression(actual, outputs);
    const { accuracy, macroF1, logLoss } = evaluateClassification(actual, outputs, data.classes);
    return { accuracy, macroF1, logLoss };
  } finally {
    model.dispose();
  }
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
