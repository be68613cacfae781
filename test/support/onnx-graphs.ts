import { onnx } from 'onnx-proto';
import { exportOnnx } from '../../ml/onnx-export';
import type { TrainedClassifier } from '../../ml/trained-model';

/** A working two-feature binary classifier, exported like every factory model. */
export function goodClassifier(bias = 0.1): TrainedClassifier {
  return {
    format: 'ai-factory.dense.v2',
    family: 'logistic',
    features: ['a', 'b'],
    standardisation: { mean: [0, 0], std: [1, 1] },
    layers: [{ inputSize: 2, units: 1, kernel: [0.5, -0.25], bias: [bias], activation: 'sigmoid' }],
    task: 'classification',
    classes: ['no', 'yes'],
  };
}

export const goodOnnx = (): Uint8Array => exportOnnx(goodClassifier());

/** Weights that went NaN in training: a valid graph whose every output is NaN. */
export const nanOnnx = (): Uint8Array => exportOnnx(goodClassifier(NaN));

function floatInfo(name: string, dims: (number | string)[]): onnx.IValueInfoProto {
  const FLOAT = onnx.TensorProto.DataType.FLOAT;
  return { name, type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } } };
}

function graph(node: onnx.INodeProto[], outputDims: (number | string)[]): Uint8Array {
  return onnx.ModelProto.encode(
    onnx.ModelProto.fromObject({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 13 }],
      graph: { name: 'broken', node, input: [floatInfo('features', ['batch', 2])], output: [floatInfo('probabilities', outputDims)] },
    }),
  ).finish();
}

/** A graph naming an operator onnxruntime does not have: the runtime refuses to load it. */
export const unknownOpOnnx = (): Uint8Array => graph([{ name: 'bad', opType: 'NoSuchOperator', input: ['features'], output: ['probabilities'] }], ['batch', 2]);

/** A graph that loads and runs but answers one column where a two-class model must give two. */
export const wrongShapeOnnx = (): Uint8Array =>
  graph([{ name: 'first', opType: 'ReduceMax', input: ['features'], output: ['probabilities'], attribute: [{ name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: [1] }] }], ['batch', 1]);
