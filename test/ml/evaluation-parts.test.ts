import { describe, expect, it } from 'vitest';
import { fairnessReport } from '../../ml/fairness';
import { permutationImportance, seededRandom } from '../../ml/importance';
import { MISSING_SLICE, sliceColumn } from '../../ml/slices';

describe('sliceColumn', () => {
  // Rows: region a, a, b, b, b, null. Binary probabilities of class 1.
  const labels = [1, 0, 1, 1, 0, 1];
  const p = [0.9, 0.2, 0.3, 0.8, 0.1, 0.7];
  const outputs = p.flatMap((q) => [1 - q, q]);
  const values = ['a', 'a', 'b', 'b', 'b', null];
  it('scores each value on its own rows, largest slice first, missing values as their own slice', () => {
    const sliced = sliceColumn('region', values, { task: 'classification', classes: ['no', 'yes'] }, labels, outputs);
    expect(sliced).toMatchObject({ column: 'region', distinctValues: 3, cap: 50 });
    expect(sliced.slices.map((s) => [s.value, s.rows, s.metrics.accuracy])).toEqual([
      ['b', 3, 2 / 3],
      ['a', 2, 1],
      [MISSING_SLICE, 1, 1],
    ]);
    expect(sliced.slices[0]?.metrics.recall).toBe(0.5);
    // One class only in the missing slice: ROC-AUC is undefined there.
    expect(sliced.slices[2]?.metrics.roc_auc).toBeNull();
  });
  it('reports at most `cap` values', () => {
    const sliced = sliceColumn('region', values, { task: 'regression' }, [1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 7], 1);
    expect(sliced.slices).toHaveLength(1);
    expect(sliced.distinctValues).toBe(3);
    expect(sliced.slices[0]?.metrics.mae).toBe(0);
  });
});

describe('fairnessReport', () => {
  // Group m: 4 rows, predicted favourable 3 (rate .75); actual favourable 2, both predicted → TPR 1.
  // Group f: 4 rows, predicted favourable 1 (rate .25); actual favourable 2, one predicted → TPR .5.
  const input = {
    sensitive: 'sex',
    favorable: 'yes',
    groups: ['m', 'm', 'm', 'm', 'f', 'f', 'f', 'f'],
    actualFavorable: [true, true, false, false, true, true, false, false],
    predictedFavorable: [true, true, true, false, true, false, false, false],
  };
  it('gives Fairlearn differences and the min ÷ max disparate impact across groups', () => {
    const r = fairnessReport({ ...input, privileged: null });
    expect(r.groups).toEqual([
      { value: 'f', rows: 4, selectionRate: 0.25, truePositiveRate: 0.5 },
      { value: 'm', rows: 4, selectionRate: 0.75, truePositiveRate: 1 },
    ]);
    expect(r.demographicParityDifference).toBe(0.5);
    expect(r.equalOpportunityDifference).toBe(0.5);
    expect(r.disparateImpactRatio).toBeCloseTo(1 / 3, 12);
    expect(r.versusPrivileged).toBeNull();
  });
  it('compares every group with the privileged one, as AIF360', () => {
    const r = fairnessReport({ ...input, privileged: 'm' });
    expect(r.versusPrivileged).toEqual([{ value: 'f', demographicParityDifference: -0.5, equalOpportunityDifference: -0.5, disparateImpactRatio: 1 / 3 }]);
  });
  it('leaves the ratio undefined when no group is ever selected', () => {
    const r = fairnessReport({ ...input, privileged: null, predictedFavorable: input.predictedFavorable.map(() => false) });
    expect(r.disparateImpactRatio).toBeNull();
    expect(r.demographicParityDifference).toBe(0);
  });
});

describe('permutationImportance', () => {
  // A "model" that only reads feature 0: shuffling feature 1 cannot change its score.
  const n = 200;
  const x = new Float32Array(n * 2);
  const y = new Float32Array(n);
  const random = seededRandom(7);
  for (let i = 0; i < n; i++) {
    x[i * 2] = random();
    x[i * 2 + 1] = random();
    y[i] = (x[i * 2] as number) > 0.5 ? 1 : 0;
  }
  const score = (features: Float32Array): Promise<number> => {
    let correct = 0;
    for (let i = 0; i < n; i++) if (((features[i * 2] as number) > 0.5 ? 1 : 0) === y[i]) correct++;
    return Promise.resolve(correct / n);
  };
  it('ranks the feature the model uses first, the ignored one at zero, and repeats exactly with the same seed', async () => {
    const run = () => permutationImportance({ x, n, features: ['used', 'ignored'], metric: 'accuracy', repeats: 4, seed: 3, score });
    const first = await run();
    expect(first.baseline).toBe(1);
    expect(first.features[0]?.feature).toBe('used');
    expect(first.features[0]?.mean).toBeGreaterThan(0.3);
    expect(first.features[1]).toEqual({ feature: 'ignored', mean: 0, std: 0 });
    expect(await run()).toEqual(first);
  });
});
