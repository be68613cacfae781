import { describe, expect, it } from 'vitest';
import { binCounts, binIndex, driftBaseline, numericBaseline, PROBABILITY_EDGES } from '../../ml/drift-baseline';

describe('drift baseline', () => {
  it('numbers bins as PostgreSQL width_bucket does over the inner edges', () => {
    const edges = [1, 2, 3];
    expect([0.5, 1, 1.5, 2, 2.99, 3, 100].map((v) => binIndex(edges, v))).toEqual([0, 1, 1, 2, 2, 3, 3]);
    expect(binCounts(edges, [0, 1, 2, 3, 3])).toEqual([1, 1, 1, 2]);
  });

  it('cuts a feature into deciles of its training values, fewer bins when values repeat', async () => {
    const uniform = await numericBaseline(Array.from({ length: 1000 }, (_, i) => i));
    expect(uniform.edges).toHaveLength(9);
    expect(uniform.counts).toEqual(new Array(10).fill(100));
    expect(uniform).toMatchObject({ rows: 1000, min: 0, max: 999, mean: 499.5 });

    const binary = await numericBaseline([0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
    expect(binary.edges).toEqual([1]);
    expect(binary.counts).toEqual([6, 4]);
  });

  it('keeps the predicted-label frequencies and top-class probabilities of a classifier', async () => {
    const baseline = await driftBaseline({
      features: ['a', 'b'],
      trainX: Float32Array.from([1, 10, 2, 20, 3, 30, 4, 40]),
      task: { task: 'classification', classes: ['no', 'yes'] },
      outputs: Float32Array.from([0.95, 0.05, 0.15, 0.85, 0.45, 0.55]),
    });
    expect(baseline.features.map((f) => [f.feature, f.rows, f.min, f.max])).toEqual([
      ['a', 4, 1, 4],
      ['b', 4, 10, 40],
    ]);
    expect(baseline.prediction).toEqual({ task: 'classification', classes: ['no', 'yes'], labelCounts: [1, 2], probabilityEdges: PROBABILITY_EDGES, probabilityCounts: [0, 0, 0, 0, 0, 1, 0, 0, 1, 1] });
  });
});
