import type { ClassMetrics, MetricValues } from '../domain/model';

export interface BinaryEvaluation {
  accuracy: number;
  rocAuc: number | null;
  logLoss: number;
  n: number;
  positives: number;
  confusion: { tp: number; fp: number; tn: number; fn: number };
}

const EPS = 1e-15;

export function accuracy(labels: ArrayLike<number>, probabilities: ArrayLike<number>): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (((probabilities[i] as number) >= 0.5 ? 1 : 0) === labels[i]) correct++;
  return labels.length > 0 ? correct / labels.length : 0;
}

/** Mean binary cross-entropy with probabilities clipped away from 0 and 1. */
export function logLoss(labels: ArrayLike<number>, probabilities: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = Math.min(Math.max(probabilities[i] as number, EPS), 1 - EPS);
    sum += labels[i] === 1 ? -Math.log(p) : -Math.log(1 - p);
  }
  return labels.length > 0 ? sum / labels.length : 0;
}

/** Area under the ROC curve by the rank-sum (Mann–Whitney U) method; tied scores share their mean rank. */
export function rocAuc(labels: ArrayLike<number>, probabilities: ArrayLike<number>): number | null {
  const n = labels.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (probabilities[a] as number) - (probabilities[b] as number));
  let positives = 0;
  let positiveRankSum = 0;
  for (let start = 0; start < n; ) {
    let end = start;
    while (end + 1 < n && probabilities[order[end + 1] as number] === probabilities[order[start] as number]) end++;
    const meanRank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) {
      if (labels[order[k] as number] === 1) {
        positives++;
        positiveRankSum += meanRank;
      }
    }
    start = end + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return null;
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export function evaluateBinary(labels: ArrayLike<number>, probabilities: ArrayLike<number>): BinaryEvaluation {
  const confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < labels.length; i++) {
    const predicted = (probabilities[i] as number) >= 0.5;
    const actual = labels[i] === 1;
    if (predicted && actual) confusion.tp++;
    else if (predicted) confusion.fp++;
    else if (actual) confusion.fn++;
    else confusion.tn++;
  }
  return {
    accuracy: accuracy(labels, probabilities),
    rocAuc: rocAuc(labels, probabilities),
    logLoss: logLoss(labels, probabilities),
    n: labels.length,
    positives: confusion.tp + confusion.fn,
    confusion,
  };
}

export interface ClassificationEvaluation {
  accuracy: number;
  macroF1: number;
  logLoss: number;
  /** Two classes: ROC-AUC of the second; more: the macro mean of one-vs-rest ROC-AUCs defined on these rows. */
  rocAuc: number | null;
  perClass: ClassMetrics[];
  /** confusionMatrix[actual][predicted]. */
  confusionMatrix: number[][];
}

/** The predicted class of one row: two classes threshold the second at 0.5 (as binary models always did), more take the argmax. */
export function predictedClass(probabilities: ArrayLike<number>, row: number, k: number): number {
  if (k === 2) return (probabilities[row * 2 + 1] as number) >= 0.5 ? 1 : 0;
  let best = 0;
  for (let c = 1; c < k; c++) if ((probabilities[row * k + c] as number) > (probabilities[row * k + best] as number)) best = c;
  return best;
}

/**
 * Multi-class metrics from class indices and row-major [n][k] probabilities. Macro-F1 averages over the
 * classes that occur among actual or predicted labels, as scikit-learn's f1_score(average='macro') does;
 * a class never predicted has precision 0.
 */
export function evaluateClassification(labels: ArrayLike<number>, probabilities: ArrayLike<number>, classes: string[]): ClassificationEvaluation {
  const n = labels.length;
  const k = classes.length;
  const confusionMatrix = classes.map(() => new Array<number>(k).fill(0));
  let correct = 0;
  let crossEntropy = 0;
  for (let i = 0; i < n; i++) {
    const actual = labels[i] as number;
    const predicted = predictedClass(probabilities, i, k);
    (confusionMatrix[actual] as number[])[predicted] = ((confusionMatrix[actual] as number[])[predicted] as number) + 1;
    if (predicted === actual) correct++;
    const p = Math.min(Math.max(probabilities[i * k + actual] as number, EPS), 1 - EPS);
    crossEntropy -= Math.log(p);
  }

  const perClass: ClassMetrics[] = classes.map((label, c) => {
    const tp = confusionMatrix[c]?.[c] ?? 0;
    const support = sum(confusionMatrix[c] ?? []);
    const predictedCount = sum(confusionMatrix.map((row) => row[c] ?? 0));
    const precision = predictedCount > 0 ? tp / predictedCount : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    const isClass = Float32Array.from({ length: n }, (_, i) => (labels[i] === c ? 1 : 0));
    const scores = Float32Array.from({ length: n }, (_, i) => probabilities[i * k + c] as number);
    return { label, support, precision, recall, f1, rocAuc: rocAuc(isClass, scores) };
  });

  const occurring = perClass.filter((m, c) => m.support > 0 || confusionMatrix.some((row) => (row[c] ?? 0) > 0));
  const aucs = perClass.map((m) => m.rocAuc).filter((a): a is number => a !== null);
  return {
    accuracy: n > 0 ? correct / n : 0,
    macroF1: occurring.length > 0 ? sum(occurring.map((m) => m.f1)) / occurring.length : 0,
    logLoss: n > 0 ? crossEntropy / n : 0,
    rocAuc: k === 2 ? (perClass[1]?.rocAuc ?? null) : aucs.length > 0 ? sum(aucs) / aucs.length : null,
    perClass,
    confusionMatrix,
  };
}

export interface RegressionEvaluation {
  rmse: number;
  mae: number;
  /** 1 − SS_res / SS_tot; with a constant actual, 1 for a perfect fit and 0 otherwise (scikit-learn's convention). */
  r2: number;
}

export function evaluateRegression(actual: ArrayLike<number>, predicted: ArrayLike<number>): RegressionEvaluation {
  const n = actual.length;
  if (n === 0) return { rmse: 0, mae: 0, r2: 0 };
  let squared = 0;
  let absolute = 0;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += actual[i] as number;
  mean /= n;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const error = (actual[i] as number) - (predicted[i] as number);
    squared += error * error;
    absolute += Math.abs(error);
    total += ((actual[i] as number) - mean) ** 2;
  }
  const r2 = total > 0 ? 1 - squared / total : squared === 0 ? 1 : 0;
  return { rmse: Math.sqrt(squared / n), mae: absolute / n, r2 };
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/**
 * Average precision as scikit-learn computes it: Σ (Rₙ − Rₙ₋₁) Pₙ over the distinct scores from highest to
 * lowest (no interpolation). Null when no row is positive.
 */
export function averagePrecision(labels: ArrayLike<number>, scores: ArrayLike<number>): number | null {
  const n = labels.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (scores[b] as number) - (scores[a] as number));
  let positives = 0;
  for (let i = 0; i < n; i++) if (labels[i] === 1) positives++;
  if (positives === 0) return null;
  let truePositives = 0;
  let seen = 0;
  let previousRecall = 0;
  let ap = 0;
  for (let start = 0; start < n; ) {
    let end = start;
    while (end + 1 < n && scores[order[end + 1] as number] === scores[order[start] as number]) end++;
    for (let k = start; k <= end; k++) if (labels[order[k] as number] === 1) truePositives++;
    seen = end + 1;
    const recall = truePositives / positives;
    ap += (recall - previousRecall) * (truePositives / seen);
    previousRecall = recall;
    start = end + 1;
  }
  return ap;
}

/** The probability of the class a row is predicted as; two classes use the 0.5 rule of predictedClass. */
function topClassProbability(probabilities: ArrayLike<number>, row: number, k: number): { predicted: number; confidence: number } {
  const predicted = predictedClass(probabilities, row, k);
  return { predicted, confidence: probabilities[row * k + predicted] as number };
}

/**
 * Expected calibration error: 10 equal-width bins on the predicted class's probability, Σ |bin|/n · |accuracy − mean confidence|
 * (Guo et al. 2017, "On Calibration of Modern Neural Networks").
 */
export function expectedCalibrationError(labels: ArrayLike<number>, probabilities: ArrayLike<number>, k: number, bins = 10): number {
  const n = labels.length;
  if (n === 0) return 0;
  const count = new Array<number>(bins).fill(0);
  const correct = new Array<number>(bins).fill(0);
  const confidence = new Array<number>(bins).fill(0);
  for (let i = 0; i < n; i++) {
    const top = topClassProbability(probabilities, i, k);
    const bin = Math.min(bins - 1, Math.max(0, Math.ceil(top.confidence * bins) - 1));
    count[bin] = (count[bin] as number) + 1;
    confidence[bin] = (confidence[bin] as number) + top.confidence;
    if (top.predicted === labels[i]) correct[bin] = (correct[bin] as number) + 1;
  }
  let ece = 0;
  for (let b = 0; b < bins; b++) {
    const c = count[b] as number;
    if (c > 0) ece += (c / n) * Math.abs((correct[b] as number) / c - (confidence[b] as number) / c);
  }
  return ece;
}

/** The metrics a threshold can name, for classification; binary ones are of the positive class (classes[1]), more classes are macro means. */
export interface ClassificationMetricValues {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  roc_auc: number | null;
  pr_auc: number | null;
  log_loss: number;
  ece: number;
}

export function classificationMetricValues(labels: ArrayLike<number>, probabilities: ArrayLike<number>, classes: string[]): ClassificationMetricValues {
  const k = classes.length;
  const n = labels.length;
  const e = evaluateClassification(labels, probabilities, classes);
  const aps = classes.map((_, c) =>
    averagePrecision(
      Float32Array.from({ length: n }, (_, i) => (labels[i] === c ? 1 : 0)),
      Float32Array.from({ length: n }, (_, i) => probabilities[i * k + c] as number),
    ),
  );
  const positive = e.perClass[1];
  // Macro means over classes among actual or predicted labels, as scikit-learn's average='macro'.
  const occurring = e.perClass.filter((m, c) => m.support > 0 || e.confusionMatrix.some((row) => (row[c] ?? 0) > 0));
  const macro = (pick: (m: ClassMetrics) => number): number => (occurring.length > 0 ? sum(occurring.map(pick)) / occurring.length : 0);
  const definedAps = aps.filter((a): a is number => a !== null);
  return {
    accuracy: e.accuracy,
    precision: k === 2 ? (positive?.precision ?? 0) : macro((m) => m.precision),
    recall: k === 2 ? (positive?.recall ?? 0) : macro((m) => m.recall),
    f1: k === 2 ? (positive?.f1 ?? 0) : e.macroF1,
    roc_auc: e.rocAuc,
    pr_auc: k === 2 ? (aps[1] ?? null) : definedAps.length > 0 ? sum(definedAps) / definedAps.length : null,
    log_loss: e.logLoss,
    ece: expectedCalibrationError(labels, probabilities, k),
  };
}

export interface RegressionMetricValues {
  rmse: number;
  mae: number;
  r2: number;
  /** Null when every target is zero. */
  mape: number | null;
}

/**
 * Mean absolute percentage error as a fraction (0.1 = 10 %), over the rows whose target is not zero:
 * a zero target has no percentage error (scikit-learn divides by machine epsilon there instead).
 */
export function meanAbsolutePercentageError(actual: ArrayLike<number>, predicted: ArrayLike<number>): { mape: number | null; skippedZeroTargets: number } {
  let total = 0;
  let rows = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i] as number;
    if (a === 0) continue;
    total += Math.abs((a - (predicted[i] as number)) / a);
    rows++;
  }
  return { mape: rows > 0 ? total / rows : null, skippedZeroTargets: actual.length - rows };
}

export function regressionMetricValues(actual: ArrayLike<number>, predicted: ArrayLike<number>): RegressionMetricValues {
  return { ...evaluateRegression(actual, predicted), mape: meanAbsolutePercentageError(actual, predicted).mape };
}

/** What a model's ONNX outputs are scored as: class probabilities [n][k], or values [n]. */
export type ScoredTask = { task: 'classification'; classes: string[] } | { task: 'regression' };

/** The task's full metric set by threshold name. */
export function taskMetricValues(task: ScoredTask, labels: ArrayLike<number>, outputs: ArrayLike<number>): MetricValues {
  return task.task === 'regression' ? { ...regressionMetricValues(labels, outputs) } : { ...classificationMetricValues(labels, outputs, task.classes) };
}

/** The rows `indices` of labels and of row-major outputs `width` wide. */
export function selectScored(labels: ArrayLike<number>, outputs: ArrayLike<number>, width: number, indices: readonly number[]): { labels: Float32Array; outputs: Float32Array } {
  const l = new Float32Array(indices.length);
  const o = new Float32Array(indices.length * width);
  indices.forEach((row, i) => {
    l[i] = labels[row] as number;
    for (let c = 0; c < width; c++) o[i * width + c] = outputs[row * width + c] as number;
  });
  return { labels: l, outputs: o };
}
