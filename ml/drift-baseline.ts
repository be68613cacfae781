import type { ClassificationPredictionBaseline, DriftBaseline, FeatureBaseline, NumericBaseline, RegressionPredictionBaseline } from '../domain/drift-baseline';
import { predictedClass } from './metrics';

// simple-statistics ships ES modules only, which a CommonJS file can load only through import().
const loadStatistics = () => import('simple-statistics');

/** Deciles: ten bins per feature, as Evidently's PSI uses by default. */
export const BASELINE_BINS = 10;

/** Fixed edges for probabilities (tenths), so every version's prediction distribution is binned the same way. */
export const PROBABILITY_EDGES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/** The bin of a value over inner edges: 0 below edges[0], i when edges[i-1] ≤ value < edges[i], edges.length at or above the last. */
export function binIndex(edges: readonly number[], value: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (value >= (edges[mid] as number)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function binCounts(edges: readonly number[], values: ArrayLike<number>): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (let i = 0; i < values.length; i++) {
    const bin = binIndex(edges, values[i] as number);
    counts[bin] = (counts[bin] as number) + 1;
  }
  return counts;
}

/** Quantile edges of the values (repeats dropped: a feature with few distinct values gets fewer bins) and the counts in them. */
export async function numericBaseline(values: ArrayLike<number>, bins = BASELINE_BINS): Promise<NumericBaseline> {
  const { mean, standardDeviation } = await loadStatistics();
  const sorted = Float64Array.from(values).sort();
  const list = Array.from(sorted);
  if (list.length === 0) return { edges: [], counts: [0], rows: 0, min: 0, max: 0, mean: 0, std: 0 };
  // Each edge is a training value (the first of its quantile): no edge falls between two values a discrete feature takes.
  const inner = Array.from({ length: bins - 1 }, (_, i) => list[Math.floor(((i + 1) / bins) * list.length)] as number);
  // A quantile equal to the minimum would leave the first bin empty by construction.
  const edges = [...new Set(inner)].filter((e) => e > (list[0] as number));
  return {
    edges,
    counts: binCounts(edges, sorted),
    rows: list.length,
    min: list[0] as number,
    max: list[list.length - 1] as number,
    mean: mean(list),
    std: list.length > 1 ? standardDeviation(list) : 0,
  };
}

/** One feature's column out of a row-major matrix. */
function column(x: Float32Array, width: number, j: number): Float32Array {
  const rows = x.length / width;
  return Float32Array.from({ length: rows }, (_, i) => x[i * width + j] as number);
}

/**
 * The drift baseline of a model version: per-feature quantile bins of the training split (row-major `trainX`)
 * and the distribution of its outputs on the held-out split (`outputs`: probabilities per class, or values).
 */
export async function driftBaseline(input: {
  features: string[];
  trainX: Float32Array;
  task: { task: 'classification'; classes: string[] } | { task: 'regression' };
  outputs: Float32Array;
}): Promise<DriftBaseline> {
  const width = input.features.length;
  const features: FeatureBaseline[] = [];
  for (const [j, feature] of input.features.entries()) features.push({ feature, ...(await numericBaseline(column(input.trainX, width, j))) });
  let prediction: ClassificationPredictionBaseline | RegressionPredictionBaseline;
  if (input.task.task === 'regression') {
    prediction = { task: 'regression', ...(await numericBaseline(input.outputs)) };
  } else {
    const k = input.task.classes.length;
    const n = input.outputs.length / k;
    const labelCounts = new Array<number>(k).fill(0);
    const top = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const c = predictedClass(input.outputs, i, k);
      labelCounts[c] = (labelCounts[c] as number) + 1;
      top[i] = input.outputs[i * k + c] as number;
    }
    prediction = { task: 'classification', classes: input.task.classes, labelCounts, probabilityEdges: PROBABILITY_EDGES, probabilityCounts: binCounts(PROBABILITY_EDGES, top) };
  }
  return { bins: BASELINE_BINS, features, prediction };
}
