import { beforeAll, describe, expect, it } from 'vitest';
import { accuracy } from '../../ml/metrics';
import type { ModelSpec } from '../../domain/model';
import { applyStandardisation, computeStandardisation } from '../../ml/standardise';
import { tf } from '../../ml/tf';
import { initTfBackend } from '../../ml/tf-backend';
import { buildTfModel, predictProbabilities, toTrainedModel } from '../../ml/tf-model';
import { trainEpochs, type TrainingCheckpoint } from '../../ml/train-loop';
import { separable } from './synthetic';

const spec: ModelSpec = { type: 'mlp', epochs: 6, learningRate: 0.05, batchSize: 32, hiddenUnits: [8], seed: 3, testFraction: 0.2 };

describe('trainEpochs', () => {
  beforeAll(async () => {
    const choice = await initTfBackend({ preferGpu: false });
    expect(['wasm', 'tensorflow', 'cpu']).toContain(choice.backend);
  });

  const { x: raw, y } = separable(400);
  const s = computeStandardisation(raw, 400, 3);
  const x = applyStandardisation(raw, 400, s);

  it('resumed from a JSON checkpoint, ends with the same weights as an uninterrupted run', async () => {
    const tensorsBefore = tf.memory().numTensors;
    const straight = buildTfModel(spec, 3);
    await trainEpochs({ model: straight, x, y, n: 400, inputSize: 3, spec, onEpoch: () => Promise.resolve() });

    const first = buildTfModel(spec, 3);
    let saved: string | undefined;
    await trainEpochs({
      model: first,
      x,
      y,
      n: 400,
      inputSize: 3,
      spec: { ...spec, epochs: 3 },
      onEpoch: async (_p, checkpoint) => {
        saved = JSON.stringify(await checkpoint());
      },
    });
    const resumed = buildTfModel(spec, 3);
    const epochsSeen: number[] = [];
    const { history } = await trainEpochs({
      model: resumed,
      x,
      y,
      n: 400,
      inputSize: 3,
      spec,
      resumeFrom: JSON.parse(saved ?? 'null') as TrainingCheckpoint,
      onEpoch: (p) => {
        epochsSeen.push(p.epoch);
        return Promise.resolve();
      },
    });
    expect(epochsSeen).toEqual([4, 5, 6]);
    expect(history.map((h) => h.epoch)).toEqual([1, 2, 3, 4, 5, 6]);

    const a = straight.getWeights().flatMap((w) => Array.from(w.dataSync()));
    const b = resumed.getWeights().flatMap((w) => Array.from(w.dataSync()));
    const maxDiff = Math.max(...a.map((v, i) => Math.abs(v - (b[i] as number))));
    expect(maxDiff).toBeLessThanOrEqual(1e-5);
    [straight, first, resumed].forEach((m) => m.dispose());
    // Disposing a model frees its Adam moments too, and a restore leaves nothing behind.
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('learns a separable signal and leaks no tensors across epochs, checkpoints included', async () => {
    const tensorsBefore = tf.memory().numTensors;
    const model = buildTfModel({ ...spec, type: 'logistic', hiddenUnits: [], epochs: 30, learningRate: 0.1 }, 3);
    const counts: number[] = [];
    await trainEpochs({
      model,
      x: x.subarray(0, 300 * 3),
      y: y.subarray(0, 300),
      n: 300,
      inputSize: 3,
      spec: { ...spec, type: 'logistic', epochs: 30, learningRate: 0.1 },
      onEpoch: async (_p, checkpoint) => {
        await checkpoint();
        counts.push(tf.memory().numTensors);
      },
    });
    expect(counts.at(-1)).toBe(counts[1]);
    const trained = toTrainedModel(model, { family: 'logistic', features: ['a', 'b', 'c'], standardisation: s, classes: ['0', '1'] });
    const p = predictProbabilities(trained, raw.subarray(300 * 3), 100);
    expect(accuracy(y.subarray(300), p)).toBeGreaterThanOrEqual(0.9);
    model.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });
});
