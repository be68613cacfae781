import { onnx } from 'onnx-proto';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import seedrandom from 'seedrandom';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelSpec } from '../../domain/model';
import { exportOnnx } from '../../ml/onnx-export';
import { applyStandardisation, computeStandardisation, standardiseTarget } from '../../ml/standardise';
import { initTfBackend } from '../../ml/tf-backend';
import { buildTfModel, predictOutputs, toTrainedModel } from '../../ml/tf-model';
import { trainEpochs } from '../../ml/train-loop';
import type { TrainedModel } from '../../ml/trained-model';
import { separable } from './synthetic';

const spec = (type: ModelSpec['type'], hiddenUnits: number[] = []): ModelSpec => ({ type, epochs: 5, learningRate: 0.05, batchSize: 32, hiddenUnits, seed: 1, testFraction: 0.2 });

/** Three classes from the same features: which third of a linear score a row falls in. */
function threeClasses(n: number, seed: string): { x: Float32Array; y: Float32Array } {
  const { x } = separable(n, seed);
  const y = Float32Array.from({ length: n }, (_, i) => {
    const score = 0.8 * (x[i * 3] as number) - 0.1 * (x[i * 3 + 1] as number);
    return score < 2 ? 0 : score < 6 ? 1 : 2;
  });
  return { x, y };
}

/** A value in large units (thousands), so parity is checked where float32 rounding is coarse. */
function houseValues(n: number, seed: string): { x: Float32Array; y: Float32Array } {
  const { x } = separable(n, seed);
  const random = seedrandom(seed);
  const y = Float32Array.from({ length: n }, (_, i) => 250_000 + 20_000 * (x[i * 3] as number) - 1_000 * (x[i * 3 + 1] as number) + 5_000 * random());
  return { x, y };
}

async function train(kind: 'binary' | 'three-class' | 'regression', s: ModelSpec): Promise<TrainedModel> {
  const { x: raw, y } = kind === 'binary' ? separable(600, 'train') : kind === 'three-class' ? threeClasses(600, 'train') : houseValues(600, 'train');
  const standardisation = computeStandardisation(raw, 600, 3);
  const target = kind === 'regression' ? standardiseTarget(y) : null;
  const head = kind === 'regression' ? ({ task: 'regression' } as const) : ({ task: 'classification', classes: kind === 'binary' ? 2 : 3 } as const);
  const model = buildTfModel(s, 3, head);
  await trainEpochs({ model, x: applyStandardisation(raw, 600, standardisation), y: target?.y ?? y, n: 600, inputSize: 3, spec: s, onEpoch: () => Promise.resolve() });
  const meta = { family: s.type, features: ['a', 'b', 'c'], standardisation };
  const tm = target
    ? toTrainedModel(model, { ...meta, task: 'regression', target: target.target })
    : toTrainedModel(model, { ...meta, task: 'classification', classes: kind === 'binary' ? ['no', 'yes'] : ['low', 'mid', 'high'] });
  model.dispose();
  return tm;
}

describe('ONNX export', () => {
  beforeAll(async () => {
    await initTfBackend({ preferGpu: false });
  });

  it.each([
    ['binary logistic', 'binary', spec('logistic'), ['probabilities', 'probability'], 2],
    ['binary mlp with two hidden layers', 'binary', spec('mlp', [16, 8]), ['probabilities', 'probability'], 2],
    ['three-class logistic (softmax)', 'three-class', spec('logistic'), ['probabilities'], 3],
    ['three-class mlp', 'three-class', spec('mlp', [8]), ['probabilities'], 3],
    ['linear regression', 'regression', spec('linear'), ['value'], 1],
    ['mlp regression', 'regression', spec('mlp', [8]), ['value'], 1],
  ] as const)('%s: onnxruntime matches TensorFlow.js within 1e-4 on 1,000 held-out rows', async (_name, kind, s, outputs, width) => {
    const tm = await train(kind, s);
    const bytes = exportOnnx(tm);
    expect(Buffer.from(exportOnnx(tm)).equals(Buffer.from(bytes))).toBe(true);

    const session = await InferenceSession.create(Buffer.from(bytes));
    expect(session.inputNames).toEqual(['features']);
    expect(session.outputNames).toEqual(outputs);

    const { x } = separable(1000, 'held-out');
    const result = await session.run({ features: new Tensor('float32', x, [1000, 3]) });
    const onnxOut = result[outputs[0]]?.data as Float32Array;
    const tfOut = predictOutputs(tm, x, 1000);
    expect(onnxOut).toHaveLength(1000 * width);
    expect(tfOut).toHaveLength(1000 * width);
    // Values are compared in target standard deviations, as the evaluate activity does.
    const scale = tm.task === 'regression' ? tm.target.std : 1;
    let maxDiff = 0;
    for (let i = 0; i < onnxOut.length; i++) maxDiff = Math.max(maxDiff, Math.abs((onnxOut[i] as number) - (tfOut[i] as number)) / scale);
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
    // Not a constant model: the comparison means something.
    if (tm.task === 'classification') {
      for (let i = 0; i < 1000; i++) expect(Array.from(onnxOut.subarray(i * width, (i + 1) * width)).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(Math.max(...tfOut) - Math.min(...tfOut)).toBeGreaterThan(0.5);
    } else {
      expect(Math.max(...tfOut) - Math.min(...tfOut)).toBeGreaterThan(50_000);
    }
    if (kind === 'binary') {
      const p = result.probability?.data as Float32Array;
      for (let i = 0; i < 1000; i++) expect(onnxOut[i * 2 + 1]).toBe(p[i]);
    }
  });

  it('carries the task, features and classes in its metadata', async () => {
    const tm = await train('binary', { ...spec('logistic'), epochs: 1 });
    const decoded = onnx.ModelProto.decode(exportOnnx(tm));
    const meta: Record<string, string> = Object.fromEntries(decoded.metadataProps.map((p): [string, string] => [p.key ?? '', p.value ?? '']));
    expect(meta).toEqual({ features: '["a","b","c"]', task: 'classification', classes: '["no","yes"]', family: 'logistic' });
    expect(Number(decoded.irVersion)).toBe(8);
    expect(decoded.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 13]]);
    expect(decoded.producerName).toBe('ai-factory');

    const regressor = await train('regression', { ...spec('linear'), epochs: 1 });
    const regressionMeta: Record<string, string> = Object.fromEntries(onnx.ModelProto.decode(exportOnnx(regressor)).metadataProps.map((p): [string, string] => [p.key ?? '', p.value ?? '']));
    expect(regressionMeta).toMatchObject({ task: 'regression', family: 'linear' });
    expect(JSON.parse(regressionMeta.target ?? '{}') as unknown).toEqual(regressor.task === 'regression' ? regressor.target : null);
  });
});
