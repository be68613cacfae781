import { CLASSIFICATION_METRICS, REGRESSION_METRICS, type MetricName, type MetricValues, type Task, type Threshold, type ThresholdVerdict } from '../domain/model';
import { UserError } from '../platform/user-error';

/** Metrics where a smaller value is better: they take `max` / `maxRise`, the others `min` / `maxDrop`. */
const LOWER_IS_BETTER: ReadonlySet<MetricName> = new Set<MetricName>(['log_loss', 'ece', 'rmse', 'mae', 'mape']);

export function lowerIsBetter(metric: MetricName): boolean {
  return LOWER_IS_BETTER.has(metric);
}

export function metricsForTask(task: Task): readonly MetricName[] {
  return task === 'regression' ? REGRESSION_METRICS : CLASSIFICATION_METRICS;
}

/** A threshold as it arrives in a request: the metric is still any string. */
export interface ThresholdRequest {
  metric: string;
  min?: number | undefined;
  max?: number | undefined;
  maxDrop?: number | undefined;
  maxRise?: number | undefined;
}

const ALL_METRICS: readonly string[] = [...CLASSIFICATION_METRICS, ...REGRESSION_METRICS];

/**
 * Checks every threshold against the task before anything runs, and returns them typed. Throws a 422
 * naming `promotion.thresholds[i]`: `unknown_metric`, `metric_not_for_task` or `invalid_threshold`.
 */
export function validateThresholds(thresholds: readonly ThresholdRequest[], task: Task): Threshold[] {
  return thresholds.map((t, i) => {
    const field = `promotion.thresholds[${i}]`;
    const allowed = metricsForTask(task);
    if (!ALL_METRICS.includes(t.metric)) {
      throw new UserError('unknown_metric', `${field} names the metric "${t.metric}", which does not exist; use one of ${allowed.join(', ')}.`, 422, { field, metric: t.metric });
    }
    const metric = t.metric as MetricName;
    if (!allowed.includes(metric)) {
      throw new UserError('metric_not_for_task', `${field} names "${metric}", which ${task} does not compute; use one of ${allowed.join(', ')}.`, 422, { field, metric, task });
    }
    const bounds = (['min', 'max', 'maxDrop', 'maxRise'] as const).filter((b) => t[b] !== undefined);
    const invalid = (why: string): UserError => new UserError('invalid_threshold', `${field} (${metric}): ${why}`, 422, { field, metric });
    if (bounds.length === 0) throw invalid('give at least one of min, max, maxDrop or maxRise.');
    for (const b of bounds) if (!Number.isFinite(t[b])) throw invalid(`${b} must be a finite number.`);
    if (t.maxDrop !== undefined && lowerIsBetter(metric)) throw invalid(`lower is better for ${metric}, so limit its rise with maxRise instead of maxDrop.`);
    if (t.maxRise !== undefined && !lowerIsBetter(metric)) throw invalid(`higher is better for ${metric}, so limit its drop with maxDrop instead of maxRise.`);
    if ((t.maxDrop ?? 0) < 0 || (t.maxRise ?? 0) < 0) throw invalid('maxDrop and maxRise are amounts and cannot be negative.');
    if (t.min !== undefined && t.max !== undefined && t.min > t.max) throw invalid(`min ${t.min} is above max ${t.max}.`);
    const threshold: Threshold = { metric };
    for (const b of bounds) threshold[b] = t[b];
    return threshold;
  });
}

/** The `minAccuracy` / `minR2` shorthands as thresholds: each applies only to its task, and 0 accuracy (the old default) judges nothing. */
export function shorthandThresholds(task: Task, shorthands: { minAccuracy?: number | null; minR2?: number | null }): Threshold[] {
  if (task === 'classification') return shorthands.minAccuracy ? [{ metric: 'accuracy', min: shorthands.minAccuracy }] : [];
  return shorthands.minR2 !== undefined && shorthands.minR2 !== null ? [{ metric: 'r2', min: shorthands.minR2 }] : [];
}

/** How far the headline metric may fall below the champion's (same rows) when the pipeline sets no maxDrop on it. */
export const DEFAULT_MAX_DROP = 0.01;

/**
 * The default policy never blesses a candidate worse than the champion: a `maxDrop` of DEFAULT_MAX_DROP on the task's
 * headline metric (accuracy, R²), unless the pipeline gives that metric a maxDrop of its own.
 */
export function withDefaultMaxDrop(task: Task, thresholds: readonly Threshold[]): Threshold[] {
  const metric: MetricName = task === 'regression' ? 'r2' : 'accuracy';
  if (thresholds.some((t) => t.metric === metric && t.maxDrop !== undefined)) return [...thresholds];
  return [...thresholds, { metric, maxDrop: DEFAULT_MAX_DROP, default: true }];
}

export interface ChampionMetrics {
  /** "v3": how messages name the champion. */
  label: string;
  champion: MetricValues;
  /** The candidate on the rows the champion was scored on: held-out rows with the champion's features that it did not train on. */
  candidate: MetricValues;
}

const fmt = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(4));

/**
 * Every threshold's verdict with the numbers behind it. Absolute bounds judge the candidate's metrics;
 * relative ones compare candidate and champion on the same rows, and pass (saying so) without a champion.
 */
export function judgeThresholds(thresholds: readonly Threshold[], candidate: MetricValues, champion: ChampionMetrics | null): ThresholdVerdict[] {
  return thresholds.map((threshold) => {
    const { metric } = threshold;
    const value = candidate[metric] ?? null;
    const relative = threshold.maxDrop !== undefined || threshold.maxRise !== undefined;
    const championValue = relative && champion ? (champion.champion[metric] ?? null) : null;
    const failures: string[] = [];
    const passes: string[] = [];
    if (threshold.min !== undefined || threshold.max !== undefined) {
      if (value === null) failures.push(`${metric} is undefined on the held-out rows, so its bound cannot be met`);
      else {
        if (threshold.min !== undefined) (value >= threshold.min ? passes : failures).push(`${metric} ${fmt(value)} ${value >= threshold.min ? '≥' : 'is below the minimum'} ${fmt(threshold.min)}`);
        if (threshold.max !== undefined) (value <= threshold.max ? passes : failures).push(`${metric} ${fmt(value)} ${value <= threshold.max ? '≤' : 'is above the maximum'} ${fmt(threshold.max)}`);
      }
    }
    if (relative) {
      const candidateOnSameRows = champion ? (champion.candidate[metric] ?? null) : null;
      if (!champion) passes.push(`no champion in production to compare ${metric} with, so its relative bound passes`);
      else if (championValue === null || candidateOnSameRows === null) passes.push(`${metric} is undefined for the champion ${champion.label} or the candidate on the same rows, so its relative bound passes`);
      else if (threshold.maxDrop !== undefined) {
        const drop = championValue - candidateOnSameRows;
        (drop <= threshold.maxDrop ? passes : failures).push(
          `${metric} ${drop > 0 ? `fell by ${fmt(drop)}` : `rose by ${fmt(-drop)}`} against the champion ${champion.label} (${fmt(championValue)} → ${fmt(candidateOnSameRows)}, maxDrop ${fmt(threshold.maxDrop)})`,
        );
      } else if (threshold.maxRise !== undefined) {
        const rise = candidateOnSameRows - championValue;
        (rise <= threshold.maxRise ? passes : failures).push(
          `${metric} ${rise > 0 ? `rose by ${fmt(rise)}` : `fell by ${fmt(-rise)}`} against the champion ${champion.label} (${fmt(championValue)} → ${fmt(candidateOnSameRows)}, maxRise ${fmt(threshold.maxRise)})`,
        );
      }
    }
    const message = [...failures, ...passes].join('; ');
    return { threshold, candidate: value, champion: championValue, passed: failures.length === 0, message: threshold.default ? `default (no worse than the champion): ${message}` : message };
  });
}
