import type { Blessing, EvaluationReport, HeadlineMetric, ThresholdVerdict } from '../domain/model';

/** The number a blessing compares: accuracy for classifiers, R² for regressors. */
export function headlineMetric(report: EvaluationReport): HeadlineMetric {
  return report.task === 'regression' ? { metric: 'r2', value: report.r2 } : { metric: 'accuracy', value: report.accuracy };
}

/**
 * Blesses a candidate that clears its task's floor (`minAccuracy` for classification, `minR2` for
 * regression when set); a champion of the same task is compared and the comparison recorded for review.
 */
export function decideBlessing(
  candidate: EvaluationReport,
  thresholds: { minAccuracy: number; minR2?: number | null },
  champion: Blessing['champion'],
): Blessing {
  const reasons: string[] = [];
  const headline = headlineMetric(candidate);
  const floor = headline.metric === 'accuracy' ? thresholds.minAccuracy : (thresholds.minR2 ?? null);
  const name = headline.metric === 'accuracy' ? 'accuracy' : 'R²';
  if (floor !== null && headline.value < floor) {
    reasons.push(`${name} ${headline.value.toFixed(4)} is below the threshold ${floor}`);
  }
  const comparable = champion && champion.metric === headline.metric ? champion : null;
  if (comparable && headline.value < comparable.value) {
    reasons.push(`note: ${name} ${headline.value.toFixed(4)} is below the production model's ${comparable.value.toFixed(4)}`);
  }
  const failed = reasons.some((r) => !r.startsWith('note:'));
  return { decision: failed ? 'rejected' : 'blessed', thresholds: { minAccuracy: thresholds.minAccuracy, minR2: thresholds.minR2 ?? null }, champion: comparable, reasons };
}

/** A blessing from threshold verdicts: blessed exactly when every threshold passed; reasons are the failing messages. */
export function blessingFromVerdicts(
  verdicts: ThresholdVerdict[],
  shorthands: { minAccuracy: number; minR2?: number | null },
  champion: Blessing['champion'],
  championNote: string | null,
): Blessing {
  const failing = verdicts.filter((v) => !v.passed).map((v) => v.message);
  return {
    decision: failing.length === 0 ? 'blessed' : 'rejected',
    thresholds: { minAccuracy: shorthands.minAccuracy, minR2: shorthands.minR2 ?? null },
    champion,
    reasons: failing,
    verdicts,
    ...(championNote !== null && { championNote }),
  };
}
