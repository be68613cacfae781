/** The model families the factory trains. */
export type ModelFamily = 'logistic' | 'mlp';

/** Hyper-parameters of one training run, with every default filled in. */
export interface ModelSpec {
  type: ModelFamily;
  epochs: number;
  learningRate: number;
  batchSize: number;
  /** Hidden layer widths; empty for `logistic`. */
  hiddenUnits: number[];
  seed: number;
  /** Fraction of rows held out for evaluation. */
  testFraction: number;
}

export interface EvaluationReport {
  split: { testFraction: number; seed: number; rows: number };
  accuracy: number;
  rocAuc: number | null;
  logLoss: number;
  positives: number;
  confusion: { tp: number; fp: number; tn: number; fn: number };
  parity: { rows: number; maxAbsDiff: number; tolerance: number };
}

export interface Blessing {
  decision: 'blessed' | 'rejected';
  thresholds: { minAccuracy: number };
  /** The production model's evaluation when there is one; null for a first model. */
  champion: { modelVersionId: string; accuracy: number } | null;
  reasons: string[];
}
