import { describe, expect, it } from 'vitest';
import { chiSquaredTest, jensenShannonDistance, kolmogorovSmirnov, kolmogorovSurvival, populationStabilityIndex, wassersteinDistance } from '../../ml/drift';

// Reference figures from scipy 1.10 (Debian python3-scipy) on the same counts; integer-valued samples make the
// binned KS statistic exact, and samples spread evenly within bins make scipy's Wasserstein comparable.
const reference = [120, 80, 60, 40, 30, 25, 20, 15, 6, 4];
const current = [60, 70, 80, 60, 50, 30, 25, 15, 6, 4];
const unitEdges = Array.from({ length: 11 }, (_, i) => i);

describe('drift statistics', () => {
  it('PSI floors empty bins at 0.0001 and is 0 for the same shares', () => {
    expect(populationStabilityIndex(reference, current)).toBeCloseTo(0.17257731596725373, 12);
    expect(populationStabilityIndex([10, 20, 30], [1, 2, 3])).toBeCloseTo(0, 12);
    expect(Number.isFinite(populationStabilityIndex([10, 0], [0, 10]))).toBe(true);
  });

  it('KS statistic and asymptotic p-value match scipy', () => {
    const ks = kolmogorovSmirnov(reference, current);
    expect(ks.statistic).toBeCloseTo(0.175, 12);
    expect(ks.pValue).toBeCloseTo(9.570234784258016e-6, 9);
    expect(kolmogorovSurvival(0)).toBe(1);
    expect(kolmogorovSmirnov([5, 5], [0, 0])).toEqual({ statistic: 0, pValue: 1 });
  });

  it('chi-squared test of homogeneity matches scipy chi2_contingency without correction', () => {
    const chi = chiSquaredTest(reference, current);
    expect(chi.statistic).toBeCloseTo(33.533910533910536, 9);
    expect(chi.dof).toBe(9);
    expect(chi.pValue).toBeCloseTo(0.0001077772976663506, 9);
    // A category neither side saw adds no degree of freedom.
    expect(chiSquaredTest([10, 0, 10], [10, 0, 10])).toMatchObject({ statistic: 0, dof: 1, pValue: 1 });
  });

  it('Jensen-Shannon distance in base 2 matches scipy and spans 0..1', () => {
    expect(jensenShannonDistance(reference, current)).toBeCloseTo(0.17512924521883316, 12);
    expect(jensenShannonDistance([1, 0], [0, 1])).toBeCloseTo(1, 12);
    expect(jensenShannonDistance([2, 4], [1, 2])).toBeCloseTo(0, 12);
  });

  it('Wasserstein distance on bins matches scipy on evenly spread samples, including a sign change inside a bin', () => {
    expect(wassersteinDistance(reference, current, unitEdges)).toBeCloseTo(0.5625, 12);
    expect(wassersteinDistance([3, 0, 1], [0, 2, 2], [0, 1, 2, 3])).toBeCloseTo(1, 12);
    expect(wassersteinDistance([1, 2, 1], [2, 0, 2], [0, 1, 2, 3])).toBeCloseTo(0.375, 12);
    expect(wassersteinDistance([1, 2, 1], [2, 0, 2], [0, 1, 2, 3], 0.5)).toBeCloseTo(0.75, 12);
  });
});
