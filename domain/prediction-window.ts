/** Fixed probability bins of a classifier's outputs: [0, 0.1), [0.1, 0.2) … [0.9, 1]. */
export const PROBABILITY_BINS = 10;

/** Quantile bins of a regressor's outputs: the stable window's deciles cut the value axis into (up to) ten bins. */
export const VALUE_QUANTILE_BINS = 10;

/** The quantile points (0.1 … 0.9) whose values are a regressor's bin edges. */
export const VALUE_QUANTILES: readonly number[] = Array.from({ length: VALUE_QUANTILE_BINS - 1 }, (_, i) => (i + 1) / VALUE_QUANTILE_BINS);

/**
 * Bin edges from ascending quantile values, repeats dropped: a step-valued regressor repeats deciles, and a
 * repeated edge would only make an always-empty bin.
 */
export function distinctEdges(quantiles: readonly number[]): number[] {
  return quantiles.filter((e, i) => i === 0 || e !== quantiles[i - 1]);
}

/**
 * A version's answered predictions over a window, binned so two versions compare bin for bin.
 * - classification: how often each label was predicted, and the probability of the positive class (two classes)
 *   or of the top class (more) in PROBABILITY_BINS fixed bins;
 * - regression: counts between `edges` (ascending, distinct), as PostgreSQL's width_bucket counts them: bin 0
 *   holds values below edges[0], bin i values in [edges[i-1], edges[i]), the last bin values ≥ the last edge.
 */
export type OutputHistogram =
  | { kind: 'classification'; labels: Record<string, number>; probabilityBins: number[] }
  | { kind: 'regression'; edges: number[]; bins: number[] };

/** What the prediction log says of one version on one endpoint over a time window. */
export interface PredictionWindow {
  /** Predictions logged in the window, answered or failed. */
  total: number;
  errors: number;
  /** 99th percentile of the logged latency (ms), interpolated; null without rows. */
  p99LatencyMs: number | null;
  /** Distribution of the answered predictions; null when none was answered. */
  outputs: OutputHistogram | null;
  /** Rows with a feedback label and how many of them the predicted label matched; null for regression. */
  accuracy: { labelled: number; correct: number } | null;
}
