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

interface ReportCommon {
  split: { testFraction: number; seed: number; rows: number };
  /** Largest |ONNX − TensorFlow.js| on held-out rows: probabilities, or for regression values divided by the target's std. */
  parity: { rows: number; maxAbsDiff: number; tolerance: number };
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
}

export type EvaluationReport = ClassificationReport | RegressionReport;

/** The number a blessing judges: accuracy for classification, R² for regression. */
export interface HeadlineMetric {
  metric: 'accuracy' | 'r2';
  value: number;
}

export interface Blessing {
  decision: 'blessed' | 'rejected';
  thresholds: { minAccuracy: number; minR2?: number | null };
  /** The production model's headline metric when there is one of the same task; null otherwise. */
  champion: ({ modelVersionId: string } & HeadlineMetric) | null;
  reasons: string[];
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
