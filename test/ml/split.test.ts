import { describe, expect, it } from 'vitest';
import { splitRows } from '../../ml/split';
import { applyStandardisation, computeStandardisation } from '../../ml/standardise';

describe('splitRows', () => {
  it('is reproducible, disjoint and complete', () => {
    const a = splitRows(100, 0.2, 7);
    expect(splitRows(100, 0.2, 7)).toEqual(a);
    expect(a.test.length).toBe(20);
    expect(new Set([...a.train, ...a.test]).size).toBe(100);
    expect(splitRows(100, 0.2, 8).test).not.toEqual(a.test);
  });
  it('keeps a row on each side of a tiny dataset', () => {
    const { train, test } = splitRows(2, 0.01, 1);
    expect([train.length, test.length]).toEqual([1, 1]);
  });
});

describe('standardisation', () => {
  it('centres and scales each feature; a constant feature keeps std 1', () => {
    const x = [1, 5, 3, 5, 5, 5];
    const s = computeStandardisation(x, 3, 2);
    expect(s.mean).toEqual([3, 5]);
    expect(s.std[1]).toBe(1);
    expect(Array.from(applyStandardisation(x, 3, s)).map((v) => Math.round(v * 1000) / 1000)).toEqual([-1.225, 0, 0, 0, 1.225, 0]);
  });
});
