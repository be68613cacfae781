import { beforeAll, describe, expect, it } from 'vitest';
import type { DriftWindow } from '../../domain/drift-window';
import type { OutputHistogram } from '../../domain/prediction-window';
import { DEFAULT_MONITORING_THRESHOLDS } from '../../domain/monitoring';
import { binCounts, driftBaseline, PROBABILITY_EDGES } from '../../ml/drift-baseline';
import { buildVersionDriftReport } from '../../ml/drift-report';
import { predictedClass } from '../../ml/metrics';
import { exportOnnx, onnxOutputNames } from '../../ml/onnx-export';
import { outputShiftPsi } from '../../ml/rollout-gates';
import { initTfBackend } from '../../ml/tf-backend';
import type { ModelSpec } from '../../domain/model';
import { selectRows } from '../../data/design-matrix';
import { pipelineModelSchema } from '../../api/routes/pipelines';
import { distributionA, distributionB, FLYWHEEL_DRIFTED_FEATURES, FLYWHEEL_FEATURES, FLYWHEEL_PIPELINE_MODEL, FLYWHEEL_TARGET, flywheelCsv } from '../support/flywheel-data';
import { fitModelOn, prepareCsvDataset, scoreOnnx, type PreparedDataset } from '../support/public-datasets';

/** What POST /v1/pipelines trains for the flywheel's `model`, its defaults filled in as the route fills them. */
const { accelerator: _accelerator, hiddenUnits: _hidden, ...hyper } = pipelineModelSchema.parse(FLYWHEEL_PIPELINE_MODEL);
const FLYWHEEL_SPEC: ModelSpec = { ...hyper, hiddenUnits: [] };

/** How many rows a two-class model's outputs ([1 - p, p] per row) predict each label for. */
function predictedLabels(outputs: Float32Array, classes: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < outputs.length / classes.length; i++) {
    const label = classes[predictedClass(outputs, i, classes.length)] ?? '';
    counts[label] = (counts[label] ?? 0) + 1;
  }
  return counts;
}

/** The positive-class probabilities on the fixed tenths, as baselines and gates bin them. */
const positiveBins = (outputs: Float32Array) => binCounts(PROBABILITY_EDGES, outputs.filter((_, i) => i % 2 === 1));

const range = (from: number, to: number) => Uint32Array.from({ length: to - from }, (_, i) => from + i);

/** The flywheel's data does what the end-to-end test needs of it, on the factory's own training and drift code. */
describe('flywheel data: B drifts from A, and a few hundred labelled B rows fix what an A-only model gets wrong', () => {
  const sizes = { a: 1000, bTrain: 300, bTest: 600, aTest: 600 };
  let data: PreparedDataset;
  const rows = { a: range(0, 0), bTrain: range(0, 0), bTest: range(0, 0), aTest: range(0, 0) };

  beforeAll(async () => {
    await initTfBackend({ preferGpu: false });
    // One table, so both models see the same design matrix: A, labelled B for the retrain, then held-out B and A.
    const table = [...distributionA(sizes.a), ...distributionB(sizes.bTrain), ...distributionB(sizes.bTest, 'flywheel-b-test'), ...distributionA(sizes.aTest, 'flywheel-a-test')];
    let at = 0;
    for (const key of ['a', 'bTrain', 'bTest', 'aTest'] as const) {
      rows[key] = range(at, at + sizes[key]);
      at += sizes[key];
    }
    data = await prepareCsvDataset('flywheel', flywheelCsv(table), FLYWHEEL_TARGET, FLYWHEEL_FEATURES, () => ({ train: rows.a, test: rows.bTest }));
  });

  it('is deterministic: the same seed gives the same rows', () => {
    expect(distributionB(50)).toEqual(distributionB(50));
    expect(distributionA(50)).not.toEqual(distributionA(50, 'other'));
  });

  it('an A-only model is clearly worse on B than one trained on A + 300 labelled B rows, and no worse on A', async () => {
    const started = Date.now();
    const aOnly = await fitModelOn(data, FLYWHEEL_SPEC, rows.a);
    const retrained = await fitModelOn(data, FLYWHEEL_SPEC, Uint32Array.from([...rows.a, ...rows.bTrain]));
    const score = async (tm: typeof aOnly, on: Uint32Array) => scoreOnnx(data, exportOnnx(tm), onnxOutputNames(tm)[0] ?? '', on);
    const accuracy = (s: Awaited<ReturnType<typeof score>>) => ('accuracy' in s.metrics ? s.metrics.accuracy : NaN);
    const [aOnB, retrainedOnB, aOnA, retrainedOnA] = await Promise.all([score(aOnly, rows.bTest), score(retrained, rows.bTest), score(aOnly, rows.aTest), score(retrained, rows.aTest)]);
    // The canary's output-shift gate would compare these two on B traffic: large by design (see flywheel-data.ts).
    const histogram = (outputs: Float32Array): OutputHistogram => ({ kind: 'classification', labels: predictedLabels(outputs, data.classes ?? []), probabilityBins: positiveBins(outputs) });
    const shift = outputShiftPsi(histogram(aOnB.outputs), histogram(retrainedOnB.outputs));
    console.log(
      `flywheel accuracy (${JSON.stringify(FLYWHEEL_SPEC)}; both trained in ${Date.now() - started} ms): ` +
        `on B: A-only ${accuracy(aOnB).toFixed(3)}, A+B ${accuracy(retrainedOnB).toFixed(3)}; ` +
        `on A: A-only ${accuracy(aOnA).toFixed(3)}, A+B ${accuracy(retrainedOnA).toFixed(3)}; output PSI between them on B ${shift?.toFixed(2)}`,
    );
    expect(accuracy(aOnB)).toBeLessThan(0.7);
    expect(accuracy(retrainedOnB)).toBeGreaterThan(0.8);
    expect(accuracy(retrainedOnB) - accuracy(aOnB)).toBeGreaterThan(0.15);
    expect(accuracy(retrainedOnA)).toBeGreaterThan(accuracy(aOnA) - 0.03);
  });

  it('the drift report of B against an A model flags spend and price, and only them', async () => {
    const width = FLYWHEEL_FEATURES.length;
    const aOnly = await fitModelOn(data, FLYWHEEL_SPEC, rows.a);
    const onnx = exportOnnx(aOnly);
    const output = onnxOutputNames(aOnly)[0] ?? '';
    const classes = data.classes ?? [];
    // The baseline the registry stores with a version: training-split deciles, outputs on the held-out split (here held-out A).
    const baseline = await driftBaseline({
      features: [...FLYWHEEL_FEATURES],
      trainX: selectRows(data.matrix.x, width, rows.a),
      task: { task: 'classification', classes },
      outputs: (await scoreOnnx(data, onnx, output, rows.aTest)).outputs,
    });
    // B traffic served by that version, aggregated as the monitor's SQL does: counts on the baseline's bins.
    const bX = selectRows(data.matrix.x, width, rows.bTest);
    const bOutputs = (await scoreOnnx(data, onnx, output, rows.bTest)).outputs;
    const window: DriftWindow = {
      rows: sizes.bTest,
      features: baseline.features.map((f, j) => {
        const values = Float32Array.from({ length: sizes.bTest }, (_, i) => bX[i * width + j] as number);
        return { feature: f.feature, counts: binCounts(f.edges, values), missing: 0, min: Math.min(...values), max: Math.max(...values) };
      }),
      prediction: { task: 'classification', labelCounts: predictedLabels(bOutputs, classes), probabilityCounts: positiveBins(bOutputs) },
      live: { labelled: 0, correct: null, auc: null, errors: null },
    };
    const report = buildVersionDriftReport({
      modelVersionId: 'mv-a',
      model: { name: 'churn', version: 1 },
      window: { from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' },
      baseline,
      counts: window,
      thresholds: DEFAULT_MONITORING_THRESHOLDS,
    });
    console.log(`flywheel drift of B against A (thresholds psi ${DEFAULT_MONITORING_THRESHOLDS.psi}, ks ${DEFAULT_MONITORING_THRESHOLDS.ks}): ${report.features.map((f) => `${f.feature} psi ${f.psi.toFixed(2)} ks ${f.ks.statistic.toFixed(2)}${f.drifted ? ' DRIFTED' : ''}`).join('; ')}`);
    expect(report.features.filter((f) => f.drifted).map((f) => f.feature).sort()).toEqual([...FLYWHEEL_DRIFTED_FEATURES].sort());
    expect(report.drifted).toBe(true);
    // The A-only model calls most of B churners: its predictions drift too.
    expect(report.prediction?.drifted).toBe(true);
  });
});
