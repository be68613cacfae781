import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import type { DriftBaseline } from '../../domain/drift-baseline';
import type { DriftWindow } from '../../domain/drift-window';
import { DEFAULT_MONITORING_THRESHOLDS, type MonitoringThresholds } from '../../domain/monitoring';
import { binCounts, numericBaseline, PROBABILITY_EDGES } from '../../ml/drift-baseline';
import { binnedRocAuc, buildVersionDriftReport, featureThresholds, liveMetrics } from '../../ml/drift-report';
import { rocAuc } from '../../ml/metrics';

const random = seedrandom('drift-report');
const uniform = (n: number, lo: number, hi: number) => Array.from({ length: n }, () => lo + random() * (hi - lo));
/** The same distribution without sampling noise: evenly spread values. */
const even = (n: number, lo: number, hi: number) => Array.from({ length: n }, (_, i) => lo + ((i + 0.5) / n) * (hi - lo));

async function baselineOf(columns: Record<string, number[]>): Promise<DriftBaseline> {
  const features = [];
  for (const [feature, values] of Object.entries(columns)) features.push({ feature, ...(await numericBaseline(values)) });
  return { bins: 10, features, prediction: { task: 'classification', classes: ['no', 'yes'], labelCounts: [500, 500], probabilityEdges: PROBABILITY_EDGES, probabilityCounts: [0, 0, 0, 0, 0, 200, 200, 200, 200, 200] } };
}

/** What the drift SQL returns for these values, computed in memory. */
function windowOf(baseline: DriftBaseline, columns: Record<string, number[]>, extra: Partial<DriftWindow> = {}): DriftWindow {
  const rows = Object.values(columns)[0]?.length ?? 0;
  return {
    rows,
    features: baseline.features.map((f) => {
      const values = columns[f.feature] ?? [];
      return { feature: f.feature, counts: binCounts(f.edges, values), missing: 0, min: Math.min(...values), max: Math.max(...values) };
    }),
    prediction: { task: 'classification', labelCounts: { no: rows / 2, yes: rows / 2 }, probabilityCounts: [0, 0, 0, 0, 0, rows / 5, rows / 5, rows / 5, rows / 5, rows / 5] },
    live: { labelled: 0, correct: 0, auc: null, errors: null },
    ...extra,
  };
}

const base = { modelVersionId: 'mv_1', model: { name: 'churn', version: 1 }, window: { from: '2026-01-01T00:00:00.000Z', to: '2026-01-01T01:00:00.000Z' } };

describe('drift report', () => {
  const training = { tenure: uniform(2000, 0, 60), spend: uniform(2000, 0, 200) };

  it('a window from the training distribution does not drift; doubling one feature drifts that feature alone', async () => {
    const baseline = await baselineOf(training);
    const same = { tenure: uniform(1000, 0, 60), spend: uniform(1000, 0, 200) };
    const calm = buildVersionDriftReport({ ...base, baseline, counts: windowOf(baseline, same), thresholds: DEFAULT_MONITORING_THRESHOLDS });
    expect(calm.drifted).toBe(false);
    expect(calm.reasons).toEqual([]);
    for (const f of calm.features) {
      expect(f.psi).toBeLessThan(0.05);
      expect(f.ks.statistic).toBeLessThan(0.06);
      expect(f.wasserstein).toBeLessThan(0.1);
    }

    const shifted = { tenure: same.tenure, spend: same.spend.map((s) => s * 2) };
    const report = buildVersionDriftReport({ ...base, baseline, counts: windowOf(baseline, shifted), thresholds: DEFAULT_MONITORING_THRESHOLDS });
    expect(report.drifted).toBe(true);
    const spend = report.features.find((f) => f.feature === 'spend');
    const tenure = report.features.find((f) => f.feature === 'tenure');
    expect(spend).toMatchObject({ drifted: true, thresholdsUsed: { psi: 0.2, ks: 0.1, wasserstein: 0.1 } });
    expect(spend?.psi).toBeGreaterThan(1);
    expect(spend?.ks.statistic).toBeGreaterThan(0.4);
    // Half the mass moved by ~100 (the training std is ~58): the normalised distance is near 1.
    expect(spend?.wasserstein).toBeGreaterThan(0.7);
    expect(spend?.crossed).toEqual([expect.stringMatching(/^psi /), expect.stringMatching(/^ks /), expect.stringMatching(/^wasserstein /)]);
    expect(tenure?.drifted).toBe(false);
    expect(report.reasons).toEqual([expect.stringMatching(/^feature spend drifted: psi/)]);
  });

  it('per-feature thresholds override the endpoint defaults', async () => {
    const baseline = await baselineOf(training);
    const thresholds: MonitoringThresholds = { ...DEFAULT_MONITORING_THRESHOLDS, features: { spend: { psi: 100, ks: 1, wasserstein: 100 } } };
    expect(featureThresholds(thresholds, 'spend')).toEqual({ psi: 100, ks: 1, wasserstein: 100 });
    expect(featureThresholds(thresholds, 'tenure')).toEqual({ psi: 0.2, ks: 0.1, wasserstein: 0.1 });
    const shifted = { tenure: even(1000, 0, 60), spend: uniform(1000, 0, 400) };
    const report = buildVersionDriftReport({ ...base, baseline, counts: windowOf(baseline, shifted), thresholds });
    expect(report.drifted).toBe(false);
  });

  it('too few rows: the numbers are reported, nothing is called drifted', async () => {
    const baseline = await baselineOf(training);
    const few = { tenure: uniform(50, 100, 200), spend: uniform(50, 0, 200) };
    const report = buildVersionDriftReport({ ...base, baseline, counts: windowOf(baseline, few), thresholds: DEFAULT_MONITORING_THRESHOLDS });
    expect(report).toMatchObject({ rows: 50, enoughRows: false, drifted: false });
    expect(report.features.find((f) => f.feature === 'tenure')?.crossed.length).toBeGreaterThan(0);
  });

  it('prediction drift: predicted labels and top-class probabilities against the held-out distribution', async () => {
    const baseline = await baselineOf(training);
    const columns = { tenure: even(1000, 0, 60), spend: even(1000, 0, 200) };
    const counts = windowOf(baseline, columns, { prediction: { task: 'classification', labelCounts: { no: 100, yes: 900 }, probabilityCounts: [0, 0, 0, 0, 0, 0, 0, 0, 0, 1000] } });
    const report = buildVersionDriftReport({ ...base, baseline, counts, thresholds: DEFAULT_MONITORING_THRESHOLDS });
    expect(report.prediction).toMatchObject({ task: 'classification', drifted: true, labelCounts: { no: 100, yes: 900 } });
    expect(report.prediction?.psi).toBeGreaterThan(0.2);
    expect(report.prediction?.chi2?.pValue).toBeLessThan(1e-6);
    expect(report.reasons).toEqual([expect.stringMatching(/^predictions drifted: psi/)]);
  });

  it('a version without a baseline gets live metrics and no drift', () => {
    const counts: DriftWindow = {
      rows: 500,
      features: [],
      prediction: { task: 'classification', labelCounts: { no: 250, yes: 250 }, probabilityCounts: new Array<number>(10).fill(50) },
      live: { labelled: 40, correct: 30, auc: null, errors: null },
    };
    const report = buildVersionDriftReport({ ...base, baseline: null, counts, thresholds: { ...DEFAULT_MONITORING_THRESHOLDS, minAccuracy: 0.8 } });
    expect(report).toMatchObject({ baseline: false, features: [], prediction: null, live: { labelled: 40, accuracy: 0.75, degraded: true }, drifted: true });
    expect(report.reasons).toEqual(['live accuracy 0.75 < 0.8 on 40 labels']);
  });

  it('live metrics: accuracy, binned ROC-AUC equal to the exact one on scores within distinct hundredths, RMSE and MAE', () => {
    const scores = Array.from({ length: 100 }, (_, i) => (i + 0.5) / 100);
    const labels = scores.map((s) => (random() < s ? 1 : 0));
    const positives = new Array<number>(100).fill(0);
    const negatives = new Array<number>(100).fill(0);
    scores.forEach((s, i) => ((labels[i] === 1 ? positives : negatives)[Math.floor(s * 100)]! += 1));
    expect(binnedRocAuc(positives, negatives)).toBeCloseTo(rocAuc(labels, scores) as number, 12);
    // Every positive and negative in one bin: a coin toss.
    expect(binnedRocAuc([3, 0], [5, 0])).toBe(0.5);
    expect(binnedRocAuc([0, 3], [0, 0])).toBeNull();

    const regression = liveMetrics({ labelled: 4, correct: null, auc: null, errors: { n: 4, sumAbs: 8, sumSquared: 20 } }, { ...DEFAULT_MONITORING_THRESHOLDS, maxRmse: 2, minLabels: 4 });
    expect(regression).toMatchObject({ rmse: Math.sqrt(5), mae: 2, accuracy: null, degraded: true });
    // Below minLabels the floor does not apply.
    expect(liveMetrics({ labelled: 4, correct: 0, auc: null, errors: null }, { ...DEFAULT_MONITORING_THRESHOLDS, minAccuracy: 0.9 }).degraded).toBe(false);
  });
});
