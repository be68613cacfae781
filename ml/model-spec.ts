import type { ModelFamily } from './trained-model';

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
