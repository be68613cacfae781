import { describe, expect, it } from 'vitest';
import { averagePrecision, classificationMetricValues, expectedCalibrationError, meanAbsolutePercentageError, regressionMetricValues } from '../../ml/metrics';

// Reference values from scikit-learn 1.2 (Debian's /usr/bin/python3) on the same arrays: accuracy_score,
// precision/recall/f1_score, roc_auc_score, average_precision_score, log_loss, mean_absolute_percentage_error.
// ECE has no scikit-learn function: the reference is a 10-line numpy version of the same definition.
describe('classification metric values', () => {
  const y = [1, 0, 1, 1, 0, 0, 1, 0, 1, 0];
  const p = [0.9, 0.4, 0.35, 0.8, 0.1, 0.65, 0.5, 0.2, 0.7, 0.5];
  const binary = classificationMetricValues(y, p.flatMap((q) => [1 - q, q]), ['no', 'yes']);

  it('binary: of the positive class, as scikit-learn', () => {
    expect(binary.accuracy).toBeCloseTo(0.7, 12);
    expect(binary.precision).toBeCloseTo(0.6666666666666666, 12);
    expect(binary.recall).toBeCloseTo(0.8, 12);
    expect(binary.f1).toBeCloseTo(0.7272727272727272, 12);
    expect(binary.roc_auc).toBeCloseTo(0.82, 12);
    expect(binary.pr_auc).toBeCloseTo(0.8583333333333334, 12);
    expect(binary.log_loss).toBeCloseTo(0.5010447311766042, 6);
    expect(binary.ece).toBeCloseTo(0.2, 6);
  });

  it('multi-class: macro means, as scikit-learn', () => {
    const labels = [0, 1, 2, 2, 1, 0, 2, 1];
    const probabilities = [
      [0.7, 0.2, 0.1], [0.3, 0.4, 0.3], [0.2, 0.2, 0.6], [0.1, 0.6, 0.3],
      [0.5, 0.3, 0.2], [0.6, 0.3, 0.1], [0.3, 0.3, 0.4], [0.1, 0.8, 0.1],
    ].flat();
    const m = classificationMetricValues(labels, probabilities, ['a', 'b', 'c']);
    expect(m.precision).toBeCloseTo(0.7777777777777777, 12);
    expect(m.recall).toBeCloseTo(0.7777777777777777, 12);
    expect(m.f1).toBeCloseTo(0.7555555555555555, 12);
    expect(m.pr_auc).toBeCloseTo(0.8796296296296297, 12);
    expect(m.ece).toBeCloseTo(0.3, 6);
  });

  it('average precision is null without positives and 1 for a perfect ranking', () => {
    expect(averagePrecision([0, 0], [0.2, 0.3])).toBeNull();
    expect(averagePrecision([0, 1, 1], [0.1, 0.8, 0.9])).toBe(1);
  });

  it('ECE is 0 for a perfectly calibrated confident model', () => {
    expect(expectedCalibrationError([1, 0], [0, 1, 1, 0], 2)).toBe(0);
  });
});

describe('regression metric values', () => {
  it('MAPE matches scikit-learn when no target is zero', () => {
    expect(regressionMetricValues([3, -0.5, 2, 7], [2.5, 0, 2, 8]).mape).toBeCloseTo(0.3273809523809524, 12);
  });
  it('MAPE skips zero targets and says how many', () => {
    expect(meanAbsolutePercentageError([0, 2, 4], [1, 1, 4])).toEqual({ mape: 0.25, skippedZeroTargets: 1 });
    expect(meanAbsolutePercentageError([0], [1]).mape).toBeNull();
  });
});
