import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_DROP, judgeThresholds, shorthandThresholds, validateThresholds, withDefaultMaxDrop } from '../../ml/thresholds';
import { blessingFromVerdicts } from '../../ml/blessing';
import { UserError } from '../../platform/user-error';

function userError(fn: () => unknown): UserError {
  try {
    fn();
  } catch (err) {
    if (err instanceof UserError) return err;
    throw err;
  }
  throw new Error('expected a UserError');
}

describe('validateThresholds', () => {
  it('accepts absolute and relative thresholds of the task', () => {
    expect(validateThresholds([{ metric: 'roc_auc', min: 0.8 }, { metric: 'log_loss', maxRise: 0.05 }], 'classification')).toEqual([
      { metric: 'roc_auc', min: 0.8 },
      { metric: 'log_loss', maxRise: 0.05 },
    ]);
  });
  it('names the field of an unknown metric', () => {
    const err = userError(() => validateThresholds([{ metric: 'r2', min: 0 }, { metric: 'auc', min: 0.8 }], 'regression'));
    expect(err).toMatchObject({ code: 'unknown_metric', status: 422, details: { field: 'promotion.thresholds[1]' } });
  });
  it('rejects a metric of the other task', () => {
    expect(userError(() => validateThresholds([{ metric: 'rmse', max: 3 }], 'classification')).code).toBe('metric_not_for_task');
  });
  it('rejects a threshold without bounds, a drop on a lower-is-better metric, a negative drop and min above max', () => {
    for (const t of [{ metric: 'accuracy' }, { metric: 'rmse', maxDrop: 0.1 }, { metric: 'accuracy', maxRise: 0.1 }, { metric: 'f1', maxDrop: -1 }, { metric: 'f1', min: 0.9, max: 0.1 }]) {
      expect(userError(() => validateThresholds([t], t.metric === 'rmse' ? 'regression' : 'classification')).code).toBe('invalid_threshold');
    }
  });
});

describe('judgeThresholds', () => {
  const candidate = { accuracy: 0.85, roc_auc: 0.9, log_loss: 0.4 };
  it('judges absolute bounds with the numbers in the message', () => {
    const [pass, fail] = judgeThresholds([{ metric: 'roc_auc', min: 0.8 }, { metric: 'log_loss', max: 0.3 }], candidate, null);
    expect(pass).toMatchObject({ passed: true, candidate: 0.9, champion: null });
    expect(fail).toMatchObject({ passed: false, candidate: 0.4 });
    expect(fail?.message).toBe('log_loss 0.4000 is above the maximum 0.3000');
  });
  it('passes a relative bound without a champion and says so', () => {
    const [v] = judgeThresholds([{ metric: 'roc_auc', maxDrop: 0.01 }], candidate, null);
    expect(v?.passed).toBe(true);
    expect(v?.message).toMatch(/no champion/);
  });
  it('compares with the champion on the same rows', () => {
    const champion = { label: 'v1', champion: { roc_auc: 0.95, log_loss: 0.38 }, candidate: { roc_auc: 0.91, log_loss: 0.4 } };
    const [drop, rise] = judgeThresholds([{ metric: 'roc_auc', maxDrop: 0.01 }, { metric: 'log_loss', maxRise: 0.05 }], candidate, champion);
    expect(drop).toMatchObject({ passed: false, candidate: 0.9, champion: 0.95 });
    expect(drop?.message).toBe('roc_auc fell by 0.0400 against the champion v1 (0.9500 → 0.9100, maxDrop 0.0100)');
    expect(rise?.passed).toBe(true);
  });
  it('fails an absolute bound on an undefined metric', () => {
    expect(judgeThresholds([{ metric: 'roc_auc', min: 0.5 }], { roc_auc: null }, null)[0]?.passed).toBe(false);
  });
});

describe('shorthands and the blessing', () => {
  it('turn minAccuracy / minR2 into thresholds of their task only', () => {
    expect(shorthandThresholds('classification', { minAccuracy: 0.7, minR2: 0.5 })).toEqual([{ metric: 'accuracy', min: 0.7 }]);
    expect(shorthandThresholds('regression', { minAccuracy: 0.7, minR2: 0.5 })).toEqual([{ metric: 'r2', min: 0.5 }]);
    expect(shorthandThresholds('classification', { minAccuracy: 0 })).toEqual([]);
  });
  it('blesses exactly when every verdict passed, listing the failures', () => {
    const verdicts = judgeThresholds([{ metric: 'accuracy', min: 0.8 }, { metric: 'roc_auc', min: 0.95 }], { accuracy: 0.85, roc_auc: 0.9 }, null);
    const blessing = blessingFromVerdicts(verdicts, { minAccuracy: 0.8 }, null, 'no production version yet');
    expect(blessing).toMatchObject({ decision: 'rejected', reasons: ['roc_auc 0.9000 is below the minimum 0.9500'], championNote: 'no production version yet' });
    expect(blessing.verdicts).toHaveLength(2);
  });
});

describe('the default maxDrop on the headline metric', () => {
  it('adds accuracy (classification) or R² (regression) maxDrop 0.01 unless the pipeline gives that metric a maxDrop', () => {
    expect(withDefaultMaxDrop('classification', [{ metric: 'roc_auc', min: 0.8 }])).toEqual([{ metric: 'roc_auc', min: 0.8 }, { metric: 'accuracy', maxDrop: DEFAULT_MAX_DROP, default: true }]);
    expect(withDefaultMaxDrop('regression', [])).toEqual([{ metric: 'r2', maxDrop: 0.01, default: true }]);
    expect(withDefaultMaxDrop('classification', [{ metric: 'accuracy', maxDrop: 1 }])).toEqual([{ metric: 'accuracy', maxDrop: 1 }]);
    // A floor is no comparison with the champion: the default still applies.
    expect(withDefaultMaxDrop('classification', [{ metric: 'accuracy', min: 0.7 }])).toHaveLength(2);
  });
  it('rejects a candidate worse than the champion and says the threshold was the default', () => {
    const [verdict] = judgeThresholds(withDefaultMaxDrop('classification', []), { accuracy: 0.8 }, { label: 'v2', champion: { accuracy: 0.9 }, candidate: { accuracy: 0.8 } });
    expect(verdict).toMatchObject({ passed: false, champion: 0.9 });
    expect(verdict?.message).toMatch(/^default \(no worse than the champion\): accuracy fell by 0\.1000 against the champion v2/);
  });
});
