import { describe, expect, it } from 'vitest';
import { accuracy, evaluateBinary, evaluateClassification, evaluateRegression, logLoss, rocAuc } from '../../ml/metrics';

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

// Expected values computed with scikit-learn 1.2 on the same arrays (accuracy_score, f1_score(average='macro'),
// log_loss, roc_auc_score(multi_class='ovr'), precision/recall_score(average=None), confusion_matrix, r2_score …).
describe('multi-class metrics', () => {
  const labels = [0, 1, 2, 2, 1, 0, 2, 1];
  const probabilities = [
    [0.7, 0.2, 0.1], [0.3, 0.4, 0.3], [0.2, 0.2, 0.6], [0.1, 0.6, 0.3],
    [0.5, 0.3, 0.2], [0.6, 0.3, 0.1], [0.3, 0.3, 0.4], [0.1, 0.8, 0.1],
  ].flat();
  const result = evaluateClassification(labels, probabilities, ['a', 'b', 'c']);

  it('match scikit-learn on accuracy, macro-F1, log-loss and one-vs-rest ROC-AUC', () => {
    expect(result.accuracy).toBe(0.75);
    expect(result.macroF1).toBeCloseTo(0.7555555555555555, 12);
    expect(result.logLoss).toBeCloseTo(0.7302496018981381, 12);
    expect(result.rocAuc).toBeCloseTo(0.9222222222222222, 12);
  });
  it('match scikit-learn per class and in the confusion matrix', () => {
    expect(result.perClass.map((c) => c.precision)).toEqual([2 / 3, 2 / 3, 1]);
    expect(result.perClass.map((c) => c.recall)).toEqual([1, 2 / 3, 2 / 3]);
    expect(result.perClass.map((c) => c.support)).toEqual([2, 3, 3]);
    expect(result.perClass[1]?.rocAuc).toBeCloseTo(0.8, 12);
    expect(result.confusionMatrix).toEqual([[2, 0, 0], [1, 2, 0], [0, 1, 2]]);
  });
  it('agree with the binary metrics on two classes given as [1 - p, p]', () => {
    const y = [1, 0, 1, 0, 1];
    const p = [0.9, 0.2, 0.4, 0.5, 0.7];
    const two = evaluateClassification(y, p.flatMap((q) => [1 - q, q]), ['no', 'yes']);
    const binary = evaluateBinary(y, p);
    expect(two.accuracy).toBe(binary.accuracy);
    expect(two.rocAuc).toBe(binary.rocAuc);
    expect(two.logLoss).toBeCloseTo(binary.logLoss, 12);
  });
  it('average macro-F1 over classes that occur, and give a never-predicted class precision 0', () => {
    const partial = evaluateClassification([0, 0, 1], [1, 0, 0, 1, 0, 0, 0, 1, 0], ['a', 'b', 'c']);
    // sklearn: f1_score([0,0,1],[0,0,1] with a class c that never occurs) = 1.0
    expect(partial.macroF1).toBe(1);
    expect(partial.perClass[2]).toMatchObject({ support: 0, precision: 0, recall: 0, rocAuc: null });
  });
});

describe('regression metrics', () => {
  it('match scikit-learn on RMSE, MAE and R²', () => {
    const r = evaluateRegression([3, -0.5, 2, 7], [2.5, 0, 2, 8]);
    expect(r.r2).toBeCloseTo(0.9486081370449679, 12);
    expect(r.mae).toBe(0.5);
    expect(r.rmse).toBeCloseTo(0.6123724356957945, 12);
  });
  it('follow scikit-learn for a constant target: R² 1 when perfect, else 0', () => {
    expect(evaluateRegression([2, 2], [2, 2]).r2).toBe(1);
    expect(evaluateRegression([2, 2], [1, 2]).r2).toBe(0);
  });
});
