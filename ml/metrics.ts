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
