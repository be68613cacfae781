/**
 * What production traffic is compared against: statistics of the data a model version was trained and
 * evaluated on, stored in its evaluation report. Bins are (−∞, e0), [e0, e1), …, [e_last, +∞) over `edges`,
 * the same buckets PostgreSQL's width_bucket(value, edges) numbers 0..edges.length.
 */
export interface NumericBaseline {
  /** Inner quantile edges of the training split, ascending, without repeats. */
  edges: number[];
  /** Training rows per bin: edges.length + 1 counts. */
  counts: number[];
  rows: number;
  min: number;
  max: number;
  mean: number;
  std: number;
}

export interface FeatureBaseline extends NumericBaseline {
  feature: string;
}

/** Predicted-label frequencies and the distribution of the top-class probability (fixed tenths), on the held-out split. */
export interface ClassificationPredictionBaseline {
  task: 'classification';
  classes: string[];
  labelCounts: number[];
  probabilityEdges: number[];
  probabilityCounts: number[];
}

export interface RegressionPredictionBaseline extends NumericBaseline {
  task: 'regression';
}

export interface DriftBaseline {
  /** Bins per numeric distribution the baseline was cut into. */
  bins: number;
  features: FeatureBaseline[];
  prediction: ClassificationPredictionBaseline | RegressionPredictionBaseline;
}
