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

/**
 * The trained model as an ONNX graph, written by us: features → Sub(mean) → Div(std) → [MatMul → Add →
 * Relu|Sigmoid]… → probability. The standardisation is in the graph, so what is served is what was
 * evaluated. Deterministic: the same model always gives the same bytes.
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
    const last = i === tm.layers.length - 1;
    initializer.push(floatTensor(`dense${i}.kernel`, [layer.inputSize, layer.units], layer.kernel));
    initializer.push(floatTensor(`dense${i}.bias`, [layer.units], layer.bias));
    node.push({ name: `dense${i}.matmul`, opType: 'MatMul', input: [current, `dense${i}.kernel`], output: [`dense${i}.xw`] });
    node.push({ name: `dense${i}.add`, opType: 'Add', input: [`dense${i}.xw`, `dense${i}.bias`], output: [`dense${i}.z`] });
    const output = last ? 'probability' : `dense${i}.a`;
    node.push({ name: `dense${i}.${layer.activation}`, opType: layer.activation === 'relu' ? 'Relu' : 'Sigmoid', input: [`dense${i}.z`], output: [output] });
    current = output;
  });

  const model = onnx.ModelProto.fromObject({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'ai-factory',
    producerVersion: tm.format,
    graph: {
      name: `${tm.family}-classifier`,
      node,
      initializer,
      input: [floatInfo('features', ['batch', width])],
      output: [floatInfo('probability', ['batch', 1])],
    },
    metadataProps: [
      { key: 'features', value: JSON.stringify(tm.features) },
      { key: 'classes', value: JSON.stringify(tm.classes) },
      { key: 'family', value: tm.family },
    ],
  });
  return onnx.ModelProto.encode(model).finish();
}
