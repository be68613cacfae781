import { onnx } from 'onnx-proto';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelSpec } from '../../domain/model';
import { exportOnnx } from '../../ml/onnx-export';
import { applyStandardisation, computeStandardisation } from '../../ml/standardise';
import { initTfBackend } from '../../ml/tf-backend';
import { buildTfModel, predictProbabilities, toTrainedModel } from '../../ml/tf-model';
import { trainEpochs } from '../../ml/train-loop';
import type { TrainedModel } from '../../ml/trained-model';
import { separable } from './synthetic';

async function trained(spec: ModelSpec): Promise<TrainedModel> {
  const { x: raw, y } = separable(600, 'train');
  const s = computeStandardisation(raw, 600, 3);
  const model = buildTfModel(spec, 3);
  await trainEpochs({ model, x: applyStandardisation(raw, 600, s), y, n: 600, inputSize: 3, spec, onEpoch: () => Promise.resolve() });
  const tm = toTrainedModel(model, { family: spec.type, features: ['a', 'b', 'c'], standardisation: s, classes: ['no', 'yes'] });
  model.dispose();
  return tm;
}

describe('ONNX export', () => {
  beforeAll(async () => {
    await initTfBackend({ preferGpu: false });
  });

  it.each([
    ['logistic', { type: 'logistic', epochs: 5, learningRate: 0.1, batchSize: 32, hiddenUnits: [], seed: 1, testFraction: 0.2 }],
    ['mlp with two hidden layers', { type: 'mlp', epochs: 5, learningRate: 0.05, batchSize: 32, hiddenUnits: [16, 8], seed: 2, testFraction: 0.2 }],
  ] as [string, ModelSpec][])('%s: onnxruntime matches TensorFlow.js within 1e-4 on 1,000 held-out rows', async (_name, spec) => {
    const tm = await trained(spec);
    const bytes = exportOnnx(tm);
    expect(Buffer.from(exportOnnx(tm)).equals(Buffer.from(bytes))).toBe(true);

    const session = await InferenceSession.create(Buffer.from(bytes));
    expect(session.inputNames).toEqual(['features']);
    expect(session.outputNames).toEqual(['probability']);

    const { x } = separable(1000, 'held-out');
    const output = await session.run({ features: new Tensor('float32', x, [1000, 3]) });
    const onnxP = output.probability?.data as Float32Array;
    const tfP = predictProbabilities(tm, x, 1000);
    expect(onnxP).toHaveLength(1000);
    let maxDiff = 0;
    for (let i = 0; i < 1000; i++) maxDiff = Math.max(maxDiff, Math.abs((onnxP[i] as number) - (tfP[i] as number)));
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
    // Not a constant model: the comparison means something.
    expect(Math.max(...tfP) - Math.min(...tfP)).toBeGreaterThan(0.5);
  });

  it('carries the features and classes in its metadata', async () => {
    const tm = await trained({ type: 'logistic', epochs: 1, learningRate: 0.1, batchSize: 32, hiddenUnits: [], seed: 1, testFraction: 0.2 });
    const decoded = onnx.ModelProto.decode(exportOnnx(tm));
    const meta: Record<string, string> = Object.fromEntries(decoded.metadataProps.map((p): [string, string] => [p.key ?? '', p.value ?? '']));
    expect(meta).toEqual({ features: '["a","b","c"]', classes: '["no","yes"]', family: 'logistic' });
    expect(Number(decoded.irVersion)).toBe(8);
    expect(decoded.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 13]]);
    expect(decoded.producerName).toBe('ai-factory');
  });
});
