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
    expect(decideBlessing(report(0.8), 0.8, null)).toMatchObject({ decision: 'blessed', reasons: [] });
  });
  it('rejects one below it and says why', () => {
    const blessing = decideBlessing(report(0.7), 0.8, null);
    expect(blessing.decision).toBe('rejected');
    expect(blessing.reasons[0]).toMatch(/below the threshold 0.8/);
  });
  it('records a worse-than-champion candidate without blocking it', () => {
    const blessing = decideBlessing(report(0.85), 0.8, { modelVersionId: 'mv_1', accuracy: 0.9 });
    expect(blessing.decision).toBe('blessed');
    expect(blessing.champion).toEqual({ modelVersionId: 'mv_1', accuracy: 0.9 });
    expect(blessing.reasons[0]).toMatch(/production model/);
  });
});
