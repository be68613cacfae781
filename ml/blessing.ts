import type { Blessing, EvaluationReport } from '../domain/model';

/** Blesses a candidate that clears the accuracy floor; the champion comparison is recorded for review. */
export function decideBlessing(
  candidate: EvaluationReport,
  minAccuracy: number,
  champion: Blessing['champion'],
): Blessing {
  const reasons: string[] = [];
  if (candidate.accuracy < minAccuracy) {
    reasons.push(`accuracy ${candidate.accuracy.toFixed(4)} is below the threshold ${minAccuracy}`);
  }
  if (champion && candidate.accuracy < champion.accuracy) {
    reasons.push(`note: accuracy ${candidate.accuracy.toFixed(4)} is below the production model's ${champion.accuracy.toFixed(4)}`);
  }
  const failed = reasons.some((r) => !r.startsWith('note:'));
  return { decision: failed ? 'rejected' : 'blessed', thresholds: { minAccuracy }, champion, reasons };
}
