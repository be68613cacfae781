import { describe, expect, it } from 'vitest';
import { accuracy, evaluateBinary, logLoss, rocAuc } from '../../ml/metrics';

describe('binary metrics', () => {
  it('accuracy thresholds at 0.5', () => {
    expect(accuracy([1, 0, 1, 0], [0.9, 0.2, 0.4, 0.5])).toBe(0.5);
  });
  it('log-loss matches the hand-computed value and survives 0 and 1', () => {
    expect(logLoss([1, 0], [0.8, 0.4])).toBeCloseTo((-Math.log(0.8) - Math.log(0.6)) / 2, 12);
    expect(Number.isFinite(logLoss([1, 0], [0, 1]))).toBe(true);
  });
  it('ROC-AUC: perfect, inverted, and with ties', () => {
    expect(rocAuc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])).toBe(1);
    expect(rocAuc([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9])).toBe(0);
    // Pairs (pos, neg): (0.5,0.5) tie → ½, (0.5,0.1) → 1, (0.9,0.5) → 1, (0.9,0.1) → 1 → 3.5 / 4.
    expect(rocAuc([1, 0, 1, 0], [0.5, 0.5, 0.9, 0.1])).toBe(0.875);
    // All scores tied: every pair counts ½.
    expect(rocAuc(Float32Array.from([1, 0, 1, 0]), [0.5, 0.5, 0.5, 0.5])).toBe(0.5);
    expect(rocAuc([1, 1], [0.2, 0.3])).toBeNull();
  });
  it('confusion counts add up', () => {
    const e = evaluateBinary([1, 1, 0, 0, 1], [0.9, 0.3, 0.6, 0.1, 0.7]);
    expect(e.confusion).toEqual({ tp: 2, fn: 1, fp: 1, tn: 1 });
    expect(e).toMatchObject({ n: 5, positives: 3, accuracy: 0.6 });
  });
});
