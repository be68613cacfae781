import type { ModelFamily } from '../domain/model';

/** A dense layer: `kernel` is row-major [inputSize][units]. */
export interface DenseLayerWeights {
  inputSize: number;
  units: number;
  kernel: number[];
  bias: number[];
  activation: 'relu' | 'sigmoid';
}

/**
 * A trained binary classifier, independent of any runtime: what training produces, what ONNX export and
 * evaluation consume. Inputs are standardised as (x - mean) / std before the first layer; the last layer
 * has one sigmoid unit giving the probability of `classes[1]`.
 */
export interface TrainedModel {
  format: 'ai-factory.dense.v1';
  family: ModelFamily;
  features: string[];
  standardisation: { mean: number[]; std: number[] };
  layers: DenseLayerWeights[];
  classes: [string, string];
}
