import type { ModelSpec } from '../domain/model';
import type { Standardisation } from './standardise';
import { tf } from './tf';
import type { ModelFamily } from '../domain/model';
import type { DenseLayerWeights, TrainedModel } from './trained-model';

/** logistic = one sigmoid unit; mlp = ReLU hidden layers then one sigmoid unit. Seeded: same spec, same start. */
export function buildTfModel(spec: ModelSpec, inputSize: number): tf.Sequential {
  const widths = spec.type === 'mlp' ? spec.hiddenUnits : [];
  const model = tf.sequential();
  [...widths, 1].forEach((units, i) => {
    const last = i === widths.length;
    model.add(
      tf.layers.dense({
        units,
        activation: last ? 'sigmoid' : 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: spec.seed * 101 + i }),
        biasInitializer: 'zeros',
        ...(i === 0 && { inputShape: [inputSize] }),
      }),
    );
  });
  const optimizer = tf.train.adam(spec.learningRate);
  model.compile({ optimizer, loss: 'binaryCrossentropy' });
  // tfjs-layers frees only optimizers it made from a name; without this every disposed model leaks its Adam moments.
  const disposeLayers = model.dispose.bind(model);
  model.dispose = () => {
    const result = disposeLayers();
    if (result.refCountAfterDispose === 0) optimizer.dispose();
    return result;
  };
  return model;
}

/** Reads the dense layers out of a trained model into the runtime-independent form. */
export function toTrainedModel(
  model: tf.LayersModel,
  meta: { family: ModelFamily; features: string[]; standardisation: Standardisation; classes: [string, string] },
): TrainedModel {
  const layers: DenseLayerWeights[] = model.layers.map((layer) => {
    const [kernel, bias] = layer.getWeights();
    if (!kernel || !bias) throw new Error(`layer ${layer.name} is not a dense layer`);
    const [inputSize, units] = kernel.shape as [number, number];
    const activation = (layer.getConfig().activation as string) === 'relu' ? 'relu' : 'sigmoid';
    return { inputSize, units, kernel: Array.from(kernel.dataSync()), bias: Array.from(bias.dataSync()), activation };
  });
  return { format: 'ai-factory.dense.v1', family: meta.family, features: meta.features, standardisation: meta.standardisation, layers, classes: meta.classes };
}

/** Probabilities of `classes[1]` for raw (unstandardised) row-major features, computed with TensorFlow.js. */
export function predictProbabilities(tm: TrainedModel, rawFeatures: Float32Array, n: number): Float32Array {
  const width = tm.features.length;
  return tf.tidy(() => {
    let z: tf.Tensor2D = tf.tensor2d(rawFeatures, [n, width], 'float32').sub(tf.tensor1d(tm.standardisation.mean)).div(tf.tensor1d(tm.standardisation.std));
    for (const layer of tm.layers) {
      z = z.matMul(tf.tensor2d(layer.kernel, [layer.inputSize, layer.units])).add(tf.tensor1d(layer.bias));
      z = layer.activation === 'relu' ? tf.relu(z) : tf.sigmoid(z);
    }
    return Float32Array.from(z.dataSync());
  });
}
