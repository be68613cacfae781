import type { ModelFamily } from '../domain/model';

/** A dense layer: `kernel` is row-major [inputSize][units]. */
export interface DenseLayerWeights {
  inputSize: number;
  units: number;
  kernel: number[];
  bias: number[];
  activation: 'relu' | 'sigmoid' | 'softmax' | 'linear';
}

/**
 * A trained model, independent of any runtime: what training produces, what ONNX export and evaluation
 * consume. Inputs are standardised as (x - mean) / std before the first layer. The head depends on the task:
 * - classification with two classes: one sigmoid unit, the probability of `classes[1]`;
 * - classification with more: a softmax over `classes`;
 * - regression: one linear unit predicting the standardised target, so value = z * target.std + target.mean.
 */
export type TrainedModel = TrainedClassifier | TrainedRegressor;

interface TrainedCommon {
  format: 'ai-factory.dense.v2';
  family: ModelFamily;
  features: string[];
  standardisation: { mean: number[]; std: number[] };
  layers: DenseLayerWeights[];
}

export interface TrainedClassifier extends TrainedCommon {
  task: 'classification';
  classes: string[];
}

export interface TrainedRegressor extends TrainedCommon {
  task: 'regression';
  /** The training target's mean and std (float32): the model learns (y - mean) / std. */
  target: { mean: number; std: number };
}

/** Columns of the model's output per row: one probability per class, or the one predicted value. */
export function outputWidth(tm: TrainedModel): number {
  return tm.task === 'classification' ? tm.classes.length : 1;
}
