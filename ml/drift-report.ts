import type { DriftBaseline } from '../domain/drift-baseline';
import type { FeatureDrift, LiveMetrics, MonitoringThresholds, PredictionDrift, VersionDriftReport } from '../domain/monitoring';
import type { DriftWindow, LiveWindow } from '../domain/drift-window';
import { chiSquaredTest, jensenShannonDistance, kolmogorovSmirnov, populationStabilityIndex, wassersteinDistance } from './drift';

/** The thresholds that apply to one feature: its own overrides over the endpoint's. */
export function featureThresholds(thresholds: MonitoringThresholds, feature: string): FeatureDrift['thresholdsUsed'] {
  const own = thresholds.features[feature] ?? {};
  return { psi: own.psi ?? thresholds.psi, ks: own.ks ?? thresholds.ks, wasserstein: own.wasserstein ?? thresholds.wasserstein };
}

const round = (x: number): number => Math.round(x * 1e4) / 1e4;

/**
 * ROC-AUC from labelled rows counted per probability bin by true label: P(score of a positive > score of a
 * negative), a positive and a negative in the same bin counting a half. Null without both classes.
 */
export function binnedRocAuc(positives: readonly number[], negatives: readonly number[]): number | null {
  const p = positives.reduce((a, b) => a + b, 0);
  const n = negatives.reduce((a, b) => a + b, 0);
  if (p === 0 || n === 0) return null;
  let negativesBelow = 0;
  let wins = 0;
  positives.forEach((pos, i) => {
    const neg = negatives[i] ?? 0;
    wins += pos * negativesBelow + 0.5 * pos * neg;
    negativesBelow += neg;
  });
  return wins / (p * n);
}

export function liveMetrics(live: LiveWindow, thresholds: MonitoringThresholds): LiveMetrics {
  const accuracy = live.correct !== null && live.labelled > 0 ? live.correct / live.labelled : null;
  const rocAuc = live.auc ? binnedRocAuc(live.auc.positives, live.auc.negatives) : null;
  const n = live.errors?.n ?? 0;
  const rmse = live.errors && n > 0 ? Math.sqrt(live.errors.sumSquared / n) : null;
  const mae = live.errors && n > 0 ? live.errors.sumAbs / n : null;
  const enough = live.labelled >= thresholds.minLabels;
  const degraded = enough && ((thresholds.minAccuracy !== null && accuracy !== null && accuracy < thresholds.minAccuracy) || (thresholds.maxRmse !== null && rmse !== null && rmse > thresholds.maxRmse));
  return { labelled: live.labelled, correct: live.correct, accuracy, rocAuc, rmse, mae, degraded };
}

function featureDrift(baseline: DriftBaseline['features'][number], window: DriftWindow['features'][number] | undefined, thresholds: MonitoringThresholds, enoughRows: boolean): FeatureDrift {
  const current = window?.counts ?? new Array<number>(baseline.counts.length).fill(0);
  const rows = current.reduce((a, b) => a + b, 0);
  const used = featureThresholds(thresholds, baseline.feature);
  const psi = populationStabilityIndex(baseline.counts, current);
  const ks = kolmogorovSmirnov(baseline.counts, current);
  // The outer bins are closed at the smallest and largest value either side has seen.
  const lo = Math.min(baseline.min, window?.min ?? baseline.min);
  const hi = Math.max(baseline.max, window?.max ?? baseline.max);
  const wasserstein = rows > 0 ? wassersteinDistance(baseline.counts, current, [lo, ...baseline.edges, hi], baseline.std) : 0;
  const crossed: string[] = [];
  if (rows > 0) {
    if (psi > used.psi) crossed.push(`psi ${round(psi)} > ${used.psi}`);
    if (ks.statistic > used.ks) crossed.push(`ks ${round(ks.statistic)} > ${used.ks}`);
    if (wasserstein > used.wasserstein) crossed.push(`wasserstein ${round(wasserstein)} > ${used.wasserstein}`);
  }
  return {
    feature: baseline.feature,
    rows,
    missing: window?.missing ?? 0,
    psi,
    ks,
    wasserstein,
    bins: { edges: baseline.edges, baseline: baseline.counts, current },
    currentMin: window?.min ?? null,
    currentMax: window?.max ?? null,
    drifted: enoughRows && crossed.length > 0,
    crossed,
    thresholdsUsed: used,
  };
}

function predictionDrift(baseline: DriftBaseline['prediction'], window: DriftWindow['prediction'], thresholds: MonitoringThresholds, enoughRows: boolean): PredictionDrift | null {
  if (baseline.task === 'classification' && window.task === 'classification') {
    // Labels the baseline never predicted get a bin of their own (empty in the baseline).
    const classes = [...baseline.classes, ...Object.keys(window.labelCounts).filter((l) => !baseline.classes.includes(l))];
    const reference = classes.map((_, i) => baseline.labelCounts[i] ?? 0);
    const current = classes.map((c) => window.labelCounts[c] ?? 0);
    const psi = populationStabilityIndex(reference, current);
    const chi2 = chiSquaredTest(reference, current);
    const js = jensenShannonDistance(reference, current);
    const probabilityPsi = populationStabilityIndex(baseline.probabilityCounts, window.probabilityCounts);
    const drifted = enoughRows && (psi > thresholds.predictionPsi || probabilityPsi > thresholds.predictionPsi || js > thresholds.js);
    return { task: 'classification', psi, chi2: { statistic: chi2.statistic, pValue: chi2.pValue }, js, probabilityPsi, labelCounts: window.labelCounts, drifted };
  }
  if (baseline.task === 'regression' && window.task === 'regression') {
    const psi = populationStabilityIndex(baseline.counts, window.counts);
    return { task: 'regression', psi, chi2: null, js: null, probabilityPsi: null, labelCounts: null, drifted: enoughRows && psi > thresholds.predictionPsi };
  }
  return null;
}

/**
 * One version's drift report from its baseline and its window's aggregates: per-feature PSI, KS and normalised
 * Wasserstein on the training deciles, prediction drift, live metrics, and why it is `drifted` (any feature
 * over a threshold, the predictions shifted, or live quality below its floor). Pure: no I/O.
 */
export function buildVersionDriftReport(input: {
  modelVersionId: string;
  model: { name: string; version: number };
  window: { from: string; to: string };
  baseline: DriftBaseline | null;
  counts: DriftWindow;
  thresholds: MonitoringThresholds;
}): VersionDriftReport {
  const { baseline, counts, thresholds } = input;
  const enoughRows = counts.rows >= thresholds.minRows;
  const features = baseline ? baseline.features.map((f) => featureDrift(f, counts.features.find((w) => w.feature === f.feature), thresholds, enoughRows)) : [];
  const prediction = baseline ? predictionDrift(baseline.prediction, counts.prediction, thresholds, enoughRows) : null;
  const live = liveMetrics(counts.live, thresholds);
  const reasons: string[] = [];
  for (const f of features) if (f.drifted) reasons.push(`feature ${f.feature} drifted: ${f.crossed.join(', ')}`);
  if (prediction?.drifted) reasons.push(`predictions drifted: psi ${round(prediction.psi)}${prediction.probabilityPsi !== null ? `, probability psi ${round(prediction.probabilityPsi)}` : ''} (threshold ${thresholds.predictionPsi})`);
  if (live.degraded) {
    if (live.accuracy !== null && thresholds.minAccuracy !== null && live.accuracy < thresholds.minAccuracy) reasons.push(`live accuracy ${round(live.accuracy)} < ${thresholds.minAccuracy} on ${live.labelled} labels`);
    if (live.rmse !== null && thresholds.maxRmse !== null && live.rmse > thresholds.maxRmse) reasons.push(`live rmse ${round(live.rmse)} > ${thresholds.maxRmse} on ${live.labelled} labels`);
  }
  return {
    modelVersionId: input.modelVersionId,
    model: input.model,
    window: input.window,
    rows: counts.rows,
    enoughRows,
    baseline: baseline !== null,
    features,
    prediction,
    live,
    drifted: reasons.length > 0,
    reasons,
  };
}
