import type { FairnessGroup, FairnessReport } from '../domain/model';

export interface FairnessInput {
  sensitive: string;
  favorable: string;
  privileged: string | null;
  /** The sensitive attribute on each held-out row (null: missing, its own group "(missing)"). */
  groups: readonly (string | null)[];
  /** Whether each held-out row's actual class is the favourable one. */
  actualFavorable: readonly boolean[];
  /** Whether the model predicts the favourable class for each held-out row. */
  predictedFavorable: readonly boolean[];
}

/**
 * Group fairness of a binary classifier, with Fairlearn's definitions
 * (fairlearn.metrics.demographic_parity_difference / equal_opportunity_difference, method "between_groups":
 * max − min across groups of the selection rate / true positive rate) and AIF360's disparate impact
 * (aif360 ClassificationMetric.disparate_impact: unprivileged ÷ privileged selection rate; across all groups, min ÷ max).
 */
export function fairnessReport(input: FairnessInput): FairnessReport {
  const tally = new Map<string, { rows: number; selected: number; positives: number; truePositives: number }>();
  input.groups.forEach((g, i) => {
    const key = g ?? '(missing)';
    const t = tally.get(key) ?? { rows: 0, selected: 0, positives: 0, truePositives: 0 };
    t.rows++;
    if (input.predictedFavorable[i]) t.selected++;
    if (input.actualFavorable[i]) {
      t.positives++;
      if (input.predictedFavorable[i]) t.truePositives++;
    }
    tally.set(key, t);
  });
  const groups: FairnessGroup[] = [...tally.entries()]
    .sort((a, b) => b[1].rows - a[1].rows || (a[0] < b[0] ? -1 : 1))
    .map(([value, t]) => ({ value, rows: t.rows, selectionRate: t.selected / t.rows, truePositiveRate: t.positives > 0 ? t.truePositives / t.positives : null }));

  const rates = groups.map((g) => g.selectionRate);
  const tprs = groups.map((g) => g.truePositiveRate).filter((r): r is number => r !== null);
  const privileged = input.privileged !== null ? (groups.find((g) => g.value === input.privileged) ?? null) : null;
  return {
    sensitive: input.sensitive,
    favorable: input.favorable,
    privileged: input.privileged,
    groups,
    demographicParityDifference: rates.length > 0 ? Math.max(...rates) - Math.min(...rates) : 0,
    equalOpportunityDifference: tprs.length > 0 ? Math.max(...tprs) - Math.min(...tprs) : null,
    disparateImpactRatio: ratio(Math.min(...rates), Math.max(...rates)),
    versusPrivileged: privileged
      ? groups
          .filter((g) => g !== privileged)
          .map((g) => ({
            value: g.value,
            demographicParityDifference: g.selectionRate - privileged.selectionRate,
            equalOpportunityDifference: g.truePositiveRate !== null && privileged.truePositiveRate !== null ? g.truePositiveRate - privileged.truePositiveRate : null,
            disparateImpactRatio: ratio(g.selectionRate, privileged.selectionRate),
          }))
      : null,
  };
}

/** Null when the denominator is 0 (no group, or a group that is never selected): the ratio is undefined. */
function ratio(numerator: number, denominator: number): number | null {
  return Number.isFinite(numerator) && denominator > 0 ? numerator / denominator : null;
}
