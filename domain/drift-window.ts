/** The aggregates of one model version's window of the prediction log that a drift report is built from (db/queries/drift-window). */

export interface FeatureWindow {
  feature: string;
  counts: number[];
  /** Rows whose value for the feature is absent or not a number. */
  missing: number;
  min: number | null;
  max: number | null;
}

export type PredictionWindowCounts =
  | { task: 'classification'; labelCounts: Record<string, number>; probabilityCounts: number[] }
  | { task: 'regression'; counts: number[]; min: number | null; max: number | null };

export interface LiveWindow {
  labelled: number;
  /** Classifiers: labelled rows whose predicted label equals the label (compared as text). */
  correct: number | null;
  /** Two classes: labelled rows per hundredth of the positive-class probability, split by their true label. */
  auc: { positives: number[]; negatives: number[] } | null;
  /** Regressors: sums over labelled rows with a numeric label. */
  errors: { n: number; sumAbs: number; sumSquared: number } | null;
}

export interface DriftWindow {
  /** Answered stable and canary rows of the version in the window (shadow and error rows are left out). */
  rows: number;
  features: FeatureWindow[];
  prediction: PredictionWindowCounts;
  live: LiveWindow;
}
