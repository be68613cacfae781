import { onnx } from 'onnx-proto';
import { exportOnnx } from '../../ml/onnx-export';
import type { TrainedClassifier } from '../../ml/trained-model';

/** A working binary classifier on `width` features, exported like every factory model. */
export function goodClassifier(bias = 0.1, width = 2): TrainedClassifier {
  return {
    format: 'ai-factory.dense.v2',
    family: 'logistic',
    features: Array.from({ length: width }, (_, i) => `f${i}`),
    standardisation: { mean: new Array<number>(width).fill(0), std: new Array<number>(width).fill(1) },
    layers: [{ inputSize: width, units: 1, kernel: Array.from({ length: width }, (_, i) => (i % 2 === 0 ? 0.5 : -0.25)), bias: [bias], activation: 'sigmoid' }],
    task: 'classification',
    classes: ['no', 'yes'],
  };
}

export const goodOnnx = (): Uint8Array => exportOnnx(goodClassifier());

/** Weights that went NaN in training: a valid graph whose every output is NaN. */
export const nanOnnx = (width = 2): Uint8Array => exportOnnx(goodClassifier(NaN, width));

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
