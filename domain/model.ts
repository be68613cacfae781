import type { DriftBaseline } from './drift-baseline';

/** What a model learns to predict: a class among the target's values, or a number in the target's units. */
export type Task = 'classification' | 'regression';

/** The model families the factory trains: `logistic` classifies, `linear` regresses, `mlp` does either. */
export type ModelFamily = 'logistic' | 'mlp' | 'linear';

/** The families each task accepts. */
export const FAMILIES_BY_TASK: Record<Task, readonly ModelFamily[]> = {
  classification: ['logistic', 'mlp'],
  regression: ['linear', 'mlp'],
};

/** The task a run trains for and why: declared in the request, or inferred from the target column. */
export interface TaskChoice {
  task: Task;
  reason: string;
}

/** Hyper-parameters of one training run, with every default filled in. */
export interface ModelSpec {
  type: ModelFamily;
  epochs: number;
  learningRate: number;
  batchSize: number;
  /** Hidden layer widths; empty for `logistic` and `linear`. */
  hiddenUnits: number[];
  seed: number;
  /** Fraction of rows held out for evaluation. */
  testFraction: number;
}

/**
 * How a training run's rows were split, recorded on the run: by a hash of the `key` column (null: of the row's
 * target and feature values), held out when its place is below `testBelow`. Runs without one used a seeded shuffle.
 */
export interface TrainingSplit {
  method: 'hash';
  key: string | null;
  testBelow: number;
}

/** One class's one-vs-rest quality on the held-out rows. */
export interface ClassMetrics {
  label: string;
  support: number;
  precision: number;
  recall: number;
  f1: number;
  /** Null when the held-out rows hold only this class or none of it. */
  rocAuc: number | null;
}

/** Every metric a threshold may name, by its snake_case name; null where a metric is undefined on these rows (e.g. ROC-AUC with one class). */
export type MetricValues = Partial<Record<MetricName, number | null>>;

/** One value of a slice column and the task's metrics on the held-out rows that have it. */
export interface SliceMetrics {
  value: string;
  rows: number;
  metrics: MetricValues;
}

/** Sliced metrics for one categorical column; at most `cap` values (the most frequent) are reported. */
export interface SlicedColumn {
  column: string;
  /** Distinct values among the held-out rows (missing values form the slice "(missing)"). */
  distinctValues: number;
  /** Slices by descending rows; cut at `cap` when there are more values. */
  slices: SliceMetrics[];
  cap: number;
}

/** One group of the sensitive attribute: how often it gets the favourable prediction, and its true positive rate. */
export interface FairnessGroup {
  value: string;
  rows: number;
  /** P(ŷ = favourable | group). */
  selectionRate: number;
  /** P(ŷ = favourable | y = favourable, group); null when the group has no favourable actual. */
  truePositiveRate: number | null;
}

/**
 * Group fairness of a binary classifier on the held-out rows (definitions of Fairlearn and AIF360):
 * demographic parity difference = max − min selection rate; equal opportunity difference = max − min true
 * positive rate; disparate impact ratio = min ÷ max selection rate. With a privileged group, `versusPrivileged`
 * gives each other group's difference (group − privileged) and ratio (group ÷ privileged), as AIF360 does.
 */
export interface FairnessReport {
  sensitive: string;
  favorable: string;
  privileged: string | null;
  groups: FairnessGroup[];
  demographicParityDifference: number;
  equalOpportunityDifference: number | null;
  disparateImpactRatio: number | null;
  versusPrivileged: { value: string; demographicParityDifference: number; equalOpportunityDifference: number | null; disparateImpactRatio: number | null }[] | null;
}

/** Permutation importance: the drop of `metric` when one feature's held-out column is shuffled, mean ± std over `repeats` seeded shuffles. */
export interface FeatureImportance {
  metric: 'accuracy' | 'r2';
  baseline: number;
  repeats: number;
  seed: number;
  rows: number;
  /** By descending mean drop. */
  features: { feature: string; mean: number; std: number }[];
}

/**
 * The production version scored on the SAME held-out rows as the candidate (`compared`), or why it was not
 * (`none`: no production version, another task, other classes, features missing from this dataset version).
 */
/** Held-out rows left out of the champion comparison, and why. */
export interface ChampionExclusion {
  rows: number;
  reason: string;
}

export type ChampionComparison =
  | {
      status: 'compared';
      modelVersionId: string;
      version: number;
      /** Held-out rows both were scored on: rows neither trained on. */
      rows: number;
      champion: MetricValues;
      candidate: MetricValues;
      /** Held-out rows left out (absent in reports from before the exclusion was counted). */
      excluded?: ChampionExclusion[];
    }
  | { status: 'none'; reason: string; modelVersionId: string | null };

interface ReportCommon {
  /** `method` and `key` are absent in reports from before hash splits (those were `shuffled`). */
  split: { testFraction: number; seed: number; rows: number; method?: 'hash' | 'shuffled'; key?: string | null };
  /** Largest |ONNX − TensorFlow.js| on held-out rows: probabilities, or for regression values divided by the target's std. */
  parity: { rows: number; maxAbsDiff: number; tolerance: number };
  /** The full metric set by threshold name, computed on the ONNX outputs; absent in reports written before it. */
  metrics?: MetricValues;
  /** Requested slice columns (pipeline body `slices`); absent when none were asked. */
  slices?: SlicedColumn[];
  /** Requested fairness check (pipeline body `fairness`); absent when none was asked. */
  fairness?: FairnessReport;
  importance?: FeatureImportance;
  champion?: ChampionComparison;
  /** What production traffic is compared against for drift; absent in reports written before monitoring. */
  baseline?: DriftBaseline;
}

export interface ClassificationReport extends ReportCommon {
  /** Absent in reports written before regression existed: those are binary classification. */
  task?: 'classification';
  accuracy: number;
  /** Binary: ROC-AUC of the second class; more classes: macro mean of one-vs-rest ROC-AUCs. */
  rocAuc: number | null;
  logLoss: number;
  macroF1?: number;
  perClass?: ClassMetrics[];
  /** confusionMatrix[actual][predicted], in class order. */
  confusionMatrix?: number[][];
  /** Binary only: held-out rows of the second class, and its confusion counts. */
  positives?: number;
  confusion?: { tp: number; fp: number; tn: number; fn: number };
}

export interface RegressionReport extends ReportCommon {
  task: 'regression';
  rmse: number;
  mae: number;
  r2: number;
  /** Mean absolute percentage error (fraction) over rows with a non-zero target; absent in older reports. */
  mape?: number | null;
  /** Held-out rows left out of MAPE because their target is 0. */
  mapeSkippedZeroTargets?: number;
}

export type EvaluationReport = ClassificationReport | RegressionReport;

/** The number a blessing judges: accuracy for classification, R² for regression. */
export interface HeadlineMetric {
  metric: 'accuracy' | 'r2';
  value: number;
}

/**
 * Whether a candidate may be promoted. Rows written before thresholds lists have only `thresholds`,
 * `champion` and `reasons`; newer ones add `verdicts` (every threshold with its numbers) and decide
 * `blessed` exactly when every verdict passed.
 */
export interface Blessing {
  decision: 'blessed' | 'rejected';
  /** The `minAccuracy` / `minR2` shorthands as requested (they also appear in `verdicts` when set). */
  thresholds: { minAccuracy: number; minR2?: number | null };
  /** The production model's headline metric (on the candidate's held-out rows, in newer blessings); null without a comparable one. */
  champion: ({ modelVersionId: string; version?: number } & HeadlineMetric) | null;
  /** Failing threshold messages (and notes); older blessings' only explanation. */
  reasons: string[];
  verdicts?: ThresholdVerdict[];
  /** Why there was no champion comparison, when there was none. */
  championNote?: string;
}

/** Metrics a threshold may name, as users write them (snake_case, as in TFMA and scikit-learn). */
export const CLASSIFICATION_METRICS = ['accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'pr_auc', 'log_loss', 'ece'] as const;
export const REGRESSION_METRICS = ['rmse', 'mae', 'r2', 'mape'] as const;
export type MetricName = (typeof CLASSIFICATION_METRICS)[number] | (typeof REGRESSION_METRICS)[number];

/**
 * A blessing threshold, absolute (`min` / `max`) or relative to the champion scored on the same rows
 * (`maxDrop` for higher-is-better metrics, `maxRise` for lower-is-better ones), as in TFMA.
 */
export interface Threshold {
  metric: MetricName;
  min?: number;
  max?: number;
  maxDrop?: number;
  maxRise?: number;
  /** Set on the threshold the factory adds by default (no worse than the champion), not asked for by the pipeline. */
  default?: true;
}

/** One threshold's verdict with the numbers behind it. */
export interface ThresholdVerdict {
  threshold: Threshold;
  candidate: number | null;
  /** The champion's value on the same rows, for relative thresholds; null without a champion. */
  champion: number | null;
  passed: boolean;
  /** A sentence a reviewer reads: "roc_auc 0.91 ≥ 0.80", "roc_auc fell by 0.03 (max 0.01) against v3". */
  message: string;
}
