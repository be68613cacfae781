import { describe, expect, it } from 'vitest';
import { decideBlessing } from '../../ml/blessing';
import type { EvaluationReport } from '../../domain/model';

const report = (accuracy: number): EvaluationReport => ({
  split: { testFraction: 0.2, seed: 1, rows: 100 },
  accuracy,
  rocAuc: 0.9,
  logLoss: 0.3,
  positives: 50,
  confusion: { tp: 1, fp: 1, tn: 1, fn: 1 },
  parity: { rows: 100, maxAbsDiff: 0, tolerance: 1e-4 },
});

describe('decideBlessing', () => {
  it('blesses a candidate at or above the threshold', () => {
    expect(decideBlessing(report(0.8), { minAccuracy: 0.8 }, null)).toMatchObject({ decision: 'blessed', reasons: [] });
  });
  it('rejects one below it and says why', () => {
    const blessing = decideBlessing(report(0.7), { minAccuracy: 0.8 }, null);
    expect(blessing.decision).toBe('rejected');
    expect(blessing.reasons[0]).toMatch(/below the threshold 0.8/);
  });
  it('records a worse-than-champion candidate without blocking it', () => {
    const blessing = decideBlessing(report(0.85), { minAccuracy: 0.8 }, { modelVersionId: 'mv_1', metric: 'accuracy', value: 0.9 });
    expect(blessing.decision).toBe('blessed');
    expect(blessing.champion).toEqual({ modelVersionId: 'mv_1', metric: 'accuracy', value: 0.9 });
    expect(blessing.reasons[0]).toMatch(/production model/);
  });
  it('judges a regressor by R² against minR2, and ignores a champion of another task', () => {
    const regression: EvaluationReport = { task: 'regression', split: { testFraction: 0.2, seed: 1, rows: 10 }, parity: { rows: 10, maxAbsDiff: 0, tolerance: 1e-4 }, rmse: 1, mae: 1, r2: 0.6 };
    expect(decideBlessing(regression, { minAccuracy: 0.9 }, null).decision).toBe('blessed');
    const rejected = decideBlessing(regression, { minAccuracy: 0, minR2: 0.7 }, { modelVersionId: 'mv_1', metric: 'accuracy', value: 0.9 });
    expect(rejected).toMatchObject({ decision: 'rejected', champion: null });
    expect(rejected.reasons[0]).toMatch(/R² 0.6000 is below the threshold 0.7/);
  });
});
