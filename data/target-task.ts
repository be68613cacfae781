import type { ColumnStats, ColumnType } from '../domain/dataset';
import { FAMILIES_BY_TASK, type ModelFamily, type Task, type TaskChoice } from '../domain/model';
import { UserError } from '../platform/user-error';

/** More classes than this is almost always an id or a continuous value, not a label. */
export const MAX_CLASSES = 100;
/** A numeric target with at most this many distinct integer values is taken for class labels. */
export const MAX_INFERRED_NUMERIC_CLASSES = 20;

/** What task inference needs to know about a target column. */
export interface TargetProfile {
  type: ColumnType;
  /** Distinct non-missing values, counted up to a cap (then `distinctCapped`). */
  distinct: number;
  distinctCapped: boolean;
  /** Every non-missing value is a whole number (always false for text). */
  integers: boolean;
}

/** The profile from a dataset version's stored statistics; null for statistics written before they counted distinct numbers. */
export function profileFromStats(stats: ColumnStats): TargetProfile | null {
  if (stats.type === 'string') return { type: 'string', distinct: stats.distinct, distinctCapped: stats.distinctCapped, integers: false };
  if (stats.distinct === undefined || stats.integers === undefined) return null;
  return { type: 'number', distinct: stats.distinct, distinctCapped: stats.distinctCapped ?? false, integers: stats.integers };
}

/** The profile from the target's values as `DatasetTable.stringColumn` gives them. */
export function profileValues(values: (string | null)[], type: ColumnType): TargetProfile {
  const distinct = new Set<string>();
  for (const v of values) if (v !== null) distinct.add(v);
  const integers = type === 'number' && [...distinct].every((v) => Number.isInteger(Number(v)));
  return { type, distinct: distinct.size, distinctCapped: false, integers };
}

/**
 * The declared task, checked against the target, or the one the target suggests: text or a few whole
 * numbers → classification, other numbers → regression. Throws a 422 the user can act on.
 */
export function chooseTask(target: string, profile: TargetProfile, declared: Task | undefined): TaskChoice {
  const details = { field: 'target', column: target };
  const count = profile.distinctCapped ? `more than ${profile.distinct}` : String(profile.distinct);
  let choice: TaskChoice;
  if (declared === 'regression') {
    if (profile.type !== 'number') {
      throw new UserError('regression_target_not_numeric', `The target "${target}" holds text, so it cannot be regressed; use "task": "classification" or choose a numeric target.`, 422, details);
    }
    choice = { task: 'regression', reason: 'declared in the request' };
  } else if (declared === 'classification') {
    choice = { task: 'classification', reason: 'declared in the request' };
  } else if (profile.type === 'string') {
    choice = { task: 'classification', reason: `the target "${target}" holds text` };
  } else if (profile.integers && !profile.distinctCapped && profile.distinct <= MAX_INFERRED_NUMERIC_CLASSES) {
    choice = { task: 'classification', reason: `the target "${target}" holds ${count} distinct whole numbers (at most ${MAX_INFERRED_NUMERIC_CLASSES} are taken for classes)` };
  } else {
    const why = profile.integers ? `${count} distinct whole numbers (more than ${MAX_INFERRED_NUMERIC_CLASSES})` : 'numbers that are not all whole';
    choice = { task: 'regression', reason: `the target "${target}" holds ${why}` };
  }

  if (choice.task === 'classification') {
    if (profile.distinct < 2) {
      throw new UserError('too_few_classes', `The target "${target}" holds ${profile.distinct === 0 ? 'no values' : 'a single class'}; classification needs at least two classes.`, 422, details);
    }
    if (profile.distinctCapped || profile.distinct > MAX_CLASSES) {
      throw new UserError(
        'too_many_classes',
        `The target "${target}" holds ${count} distinct values, more than the ${MAX_CLASSES} classes a classifier here supports; choose another target${profile.type === 'number' ? ' or use "task": "regression"' : ''}.`,
        422,
        details,
      );
    }
  } else if (profile.distinct < 2) {
    throw new UserError('constant_target', `The target "${target}" holds ${profile.distinct === 0 ? 'no values' : 'a single value'}; there is nothing to regress.`, 422, details);
  }
  return choice;
}

/** The model family must suit the task: `logistic` only classifies, `linear` only regresses. */
export function checkFamilyForTask(family: ModelFamily, choice: TaskChoice): void {
  const allowed = FAMILIES_BY_TASK[choice.task];
  if (!allowed.includes(family)) {
    throw new UserError(
      'model_type_not_for_task',
      `"model.type": "${family}" cannot be used for ${choice.task} (${choice.reason}); use ${allowed.map((f) => `"${f}"`).join(' or ')}${choice.reason === 'declared in the request' ? '' : ', or declare "task"'}.`,
      422,
      { field: 'model.type', task: choice.task },
    );
  }
}

/** The target's classes in a stable order: numbers numerically, text by code units; missing values skipped. */
export function targetClasses(values: (string | null)[], type: ColumnType): string[] {
  const distinct = new Set<string>();
  for (const v of values) if (v !== null) distinct.add(v);
  return [...distinct].sort(type === 'number' ? (a, b) => Number(a) - Number(b) : (a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
