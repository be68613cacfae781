import type { ModelFamily, ModelSpec } from '../domain/model';
import type { Standardisation } from './standardise';
import { tf } from './tf';
import type { DenseLayerWeights, TrainedModel } from './trained-model';

/** What the last layer predicts: a class out of `classes` (how many), or one standardised number. */
export type ModelHead = { task: 'classification'; classes: number } | { task: 'regression' };

/** Two classes keep the single sigmoid unit binary models have always had; more get a softmax. */
function headLayer(head: ModelHead): { units: number; activation: 'sigmoid' | 'softmax' | 'linear'; loss: string } {
  if (head.task === 'regression') return { units: 1, activation: 'linear', loss: 'meanSquaredError' };
  if (head.classes === 2) return { units: 1, activation: 'sigmoid', loss: 'binaryCrossentropy' };
  return { units: head.classes, activation: 'softmax', loss: 'sparseCategoricalCrossentropy' };
}

/**
 * logistic/linear = the head alone (softmax or linear regression); mlp = ReLU hidden layers, then the head.
 * Seeded: same spec, same start. `y` is the class index, or for regression the standardised target.
 */
export function buildTfModel(spec: ModelSpec, inputSize: number, head: ModelHead = { task: 'classification', classes: 2 }): tf.Sequential {
  const widths = spec.type === 'mlp' ? spec.hiddenUnits : [];
  const last = headLayer(head);
  const model = tf.sequential();
  [...widths, last.units].forEach((units, i) => {
    const isHead = i === widths.length;
    model.add(
      tf.layers.dense({
        units,
        activation: isHead ? last.activation : 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: spec.seed * 101 + i }),
        biasInitializer: 'zeros',
        ...(i === 0 && { inputShape: [inputSize] }),
      }),
    );
  });
  const optimizer = tf.train.adam(spec.learningRate);
  model.compile({ optimizer, loss: last.loss });
  // tfjs-layers frees only optimizers it made from a name; without this every disposed model leaks its Adam moments.
  const disposeLayers = model.dispose.bind(model);
  model.dispose = () => {
    const result = disposeLayers();
    if (result.refCountAfterDispose === 0) optimizer.dispose();
    return result;
  };
  return model;
}

const ACTIVATIONS: readonly DenseLayerWeights['activation'][] = ['relu', 'sigmoid', 'softmax', 'linear'];

type TrainedModelMeta = { family: ModelFamily; features: string[]; standardisation: Standardisation } & (
  // `task` may be left out for a classifier, as callers from before regression did.
  | { task?: 'classification'; classes: string[] }
  | { task: 'regression'; target: { mean: number; std: number } }
);

/** Reads the dense layers out of a trained model into the runtime-independent form. */
export function toTrainedModel(model: tf.LayersModel, meta: TrainedModelMeta): TrainedModel {
  const layers: DenseLayerWeights[] = model.layers.map((layer) => {
    const [kernel, bias] = layer.getWeights();
    if (!kernel || !bias) throw new Error(`layer ${layer.name} is not a dense layer`);
    const [inputSize, units] = kernel.shape as [number, number];
    const activation = ACTIVATIONS.find((a) => a === layer.getConfig().activation);
    if (!activation) throw new Error(`layer ${layer.name} has an activation the export does not know`);
    return { inputSize, units, kernel: Array.from(kernel.dataSync()), bias: Array.from(bias.dataSync()), activation };
  });
  const common = { format: 'ai-factory.dense.v2', family: meta.family, features: meta.features, standardisation: meta.standardisation, layers } as const;
  return meta.task === 'regression' ? { ...common, task: 'regression', target: meta.target } : { ...common, task: 'classification', classes: meta.classes };
}

/**
 * The model's outputs for raw (unstandardised) row-major features, computed with TensorFlow.js, row-major
 * [n][outputWidth]: a probability per class (two-class models give [1 - p, p]), or the value in target units.
 */
export function predictOutputs(tm: TrainedModel, rawFeatures: Float32Array, n: number): Float32Array {
  const width = tm.features.length;
  return tf.tidy(() => {
    let z: tf.Tensor = tf.tensor2d(rawFeatures, [n, width], 'float32').sub(tf.tensor1d(tm.standardisation.mean)).div(tf.tensor1d(tm.standardisation.std));
    for (const layer of tm.layers) {
      z = z.matMul(tf.tensor2d(layer.kernel, [layer.inputSize, layer.units])).add(tf.tensor1d(layer.bias));
      if (layer.activation === 'relu') z = tf.relu(z);
      else if (layer.activation === 'sigmoid') z = tf.sigmoid(z);
      else if (layer.activation === 'softmax') z = tf.softmax(z);
    }
    if (tm.task === 'regression') z = z.mul(tf.scalar(tm.target.std)).add(tf.scalar(tm.target.mean));
    else if (tm.layers.at(-1)?.units === 1) z = tf.concat([tf.scalar(1).sub(z), z], 1);
    return Float32Array.from(z.dataSync());
  });
}

/** The probability of `classes[1]` from a two-class model: the binary view of `predictOutputs`. */
export function predictProbabilities(tm: TrainedModel, rawFeatures: Float32Array, n: number): Float32Array {
  const pairs = predictOutputs(tm, rawFeatures, n);
  return Float32Array.from({ length: n }, (_, i) => pairs[i * 2 + 1] as number);
}
