import { onnx } from 'onnx-proto';
import type { TrainedModel } from './trained-model';

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const OPSET = 13;
const IR_VERSION = 8;

function floatTensor(name: string, dims: number[], values: number[]): onnx.ITensorProto {
  const raw = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => raw.writeFloatLE(v, i * 4));
  return { name, dims, dataType: FLOAT, rawData: raw };
}

function floatInfo(name: string, dims: (number | string)[]): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  };
}

const ACTIVATION_OPS = { relu: 'Relu', sigmoid: 'Sigmoid', softmax: 'Softmax' } as const;

/** The graph's output names, in the order they are declared. */
export function onnxOutputNames(tm: TrainedModel): string[] {
  if (tm.task === 'regression') return ['value'];
  return tm.classes.length === 2 ? ['probabilities', 'probability'] : ['probabilities'];
}

/**
 * The trained model as an ONNX graph, written by us: features → Sub(mean) → Div(std) → [MatMul → Add →
 * activation]… → head. Classifiers output `probabilities` [batch, classes] (two-class models also keep
 * `probability` of the second class); regressors output `value` [batch, 1] = z * std + mean, in the
 * target's own units. The standardisation is in the graph, so what is served is what was evaluated.
 * Deterministic: the same model always gives the same bytes.
 */
export function exportOnnx(tm: TrainedModel): Uint8Array {
  const width = tm.features.length;
  const initializer = [floatTensor('mean', [width], tm.standardisation.mean), floatTensor('std', [width], tm.standardisation.std)];
  const node: onnx.INodeProto[] = [
    { name: 'centre', opType: 'Sub', input: ['features', 'mean'], output: ['centred'] },
    { name: 'scale', opType: 'Div', input: ['centred', 'std'], output: ['standardised'] },
  ];
  let current = 'standardised';
  tm.layers.forEach((layer, i) => {
    initializer.push(floatTensor(`dense${i}.kernel`, [layer.inputSize, layer.units], layer.kernel));
    initializer.push(floatTensor(`dense${i}.bias`, [layer.units], layer.bias));
    node.push({ name: `dense${i}.matmul`, opType: 'MatMul', input: [current, `dense${i}.kernel`], output: [`dense${i}.xw`] });
    node.push({ name: `dense${i}.add`, opType: 'Add', input: [`dense${i}.xw`, `dense${i}.bias`], output: [`dense${i}.z`] });
    current = `dense${i}.z`;
    if (layer.activation !== 'linear') {
      const op = ACTIVATION_OPS[layer.activation];
      node.push({ name: `dense${i}.${layer.activation}`, opType: op, input: [current], output: [`dense${i}.a`], ...(op === 'Softmax' && { attribute: [intAttribute('axis', -1)] }) });
      current = `dense${i}.a`;
    }
  });

  let outputs: onnx.IValueInfoProto[];
  const metadata: { key: string; value: string }[] = [{ key: 'features', value: JSON.stringify(tm.features) }];
  if (tm.task === 'regression') {
    initializer.push(floatTensor('target.std', [1], [tm.target.std]), floatTensor('target.mean', [1], [tm.target.mean]));
    node.push({ name: 'target.unscale', opType: 'Mul', input: [current, 'target.std'], output: ['target.scaled'] });
    node.push({ name: 'target.uncentre', opType: 'Add', input: ['target.scaled', 'target.mean'], output: ['value'] });
    outputs = [floatInfo('value', ['batch', 1])];
    metadata.push({ key: 'task', value: 'regression' }, { key: 'target', value: JSON.stringify(tm.target) });
  } else if (tm.classes.length === 2) {
    // The sigmoid unit gives P(classes[1]); the pair [1 - p, p] makes it look like every other classifier.
    initializer.push(floatTensor('one', [1], [1]));
    node.push({ name: 'binary.identity', opType: 'Identity', input: [current], output: ['probability'] });
    node.push({ name: 'binary.complement', opType: 'Sub', input: ['one', 'probability'], output: ['binary.negative'] });
    node.push({ name: 'binary.pair', opType: 'Concat', input: ['binary.negative', 'probability'], output: ['probabilities'], attribute: [intAttribute('axis', 1)] });
    outputs = [floatInfo('probabilities', ['batch', 2]), floatInfo('probability', ['batch', 1])];
    metadata.push({ key: 'task', value: 'classification' }, { key: 'classes', value: JSON.stringify(tm.classes) });
  } else {
    node.push({ name: 'softmax.output', opType: 'Identity', input: [current], output: ['probabilities'] });
    outputs = [floatInfo('probabilities', ['batch', tm.classes.length])];
    metadata.push({ key: 'task', value: 'classification' }, { key: 'classes', value: JSON.stringify(tm.classes) });
  }
  metadata.push({ key: 'family', value: tm.family });

  const model = onnx.ModelProto.fromObject({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'ai-factory',
    producerVersion: tm.format,
    graph: {
      name: `${tm.family}-${tm.task === 'regression' ? 'regressor' : 'classifier'}`,
      node,
      initializer,
      input: [floatInfo('features', ['batch', width])],
      output: outputs,
    },
    metadataProps: metadata,
  });
  return onnx.ModelProto.encode(model).finish();
}

function intAttribute(name: string, value: number): onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i: value };
}
