import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { loadOnnxSession, runOnnxModel } from '../../serving/onnx-session';
import { goodOnnx } from '../support/onnx-graphs';
import { failingClassifier, shiftedClassifier, slowClassifier } from '../support/candidate-models';

/** Ordinary records of goodClassifier's two features. */
const RECORDS = Float32Array.from([0, 0, 1, -1, -2, 1, 0.5, 2, -1, -1, 2, 0]);
const N = RECORDS.length / 2;

async function probabilities(bytes: Uint8Array): Promise<number[]> {
  const session = await loadOnnxSession(bytes);
  try {
    return Array.from(await runOnnxModel(session, RECORDS, N, 2, 'probabilities'));
  } finally {
    await session.release();
  }
}

/** P(yes) of each record: the second of each pair. */
const positives = (pairs: number[]) => pairs.filter((_, i) => i % 2 === 1);

describe('candidate models', () => {
  it('the good classifier answers both classes on ordinary records', async () => {
    const p = positives(await probabilities(goodOnnx()));
    expect(p.some((v) => v > 0.5)).toBe(true);
    expect(p.some((v) => v < 0.5)).toBe(true);
  });

  it('the shifted classifier pushes every ordinary record to "yes"', async () => {
    const p = positives(await probabilities(shiftedClassifier()));
    expect(p.every((v) => v > 0.99)).toBe(true);
  });

  it('the failing classifier answers NaN', async () => {
    const p = await probabilities(failingClassifier());
    expect(p).toHaveLength(N * 2);
    expect(p.every((v) => Number.isNaN(v))).toBe(true);
  });

  it('the slow classifier answers what the good one does, taking at least 30 ms for one row', async () => {
    const bytes = slowClassifier();
    expect(bytes.length).toBeLessThan(4 * 1024 * 1024);
    const slow = await probabilities(bytes);
    const good = await probabilities(goodOnnx());
    slow.forEach((v, i) => expect(v).toBeCloseTo(good[i] as number, 6));

    const session = await loadOnnxSession(bytes);
    try {
      const row = RECORDS.subarray(0, 2);
      await runOnnxModel(session, row, 1, 2, 'probabilities');
      const times: number[] = [];
      for (let k = 0; k < 5; k++) {
        const started = performance.now();
        await runOnnxModel(session, row, 1, 2, 'probabilities');
        times.push(performance.now() - started);
      }
      times.sort((a, b) => a - b);
      console.log(`slowClassifier one-row call: min ${times[0]?.toFixed(1)} ms, median ${times[2]?.toFixed(1)} ms`);
      expect(times[0]).toBeGreaterThanOrEqual(30);
    } finally {
      await session.release();
    }
  });
});
