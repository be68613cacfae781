import type { ColumnSchema } from '../domain/dataset';
import type { Task } from '../domain/model';
import type { SkippedLabelReason } from '../domain/retrain';
import type { DatasetRowValues } from './dataset-builder';
import { parseCsvNumber } from './parse-number';

/** The base training run's target as the retrain dataset must type it: its column type, task and classes. */
export interface RetrainTarget {
  name: string;
  task: Task;
  /** Classification: the classes the base model knows, as training reads them (numbers formatted); null for regression. */
  classes: readonly string[] | null;
}


export type LabelledRow = { row: DatasetRowValues; skipped?: undefined } | { row?: undefined; skipped: SkippedLabelReason };

/** A finite number from a JSON value: numbers as they are, numeric text as a CSV would read it. */
function asNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string') return parseCsvNumber(value.trim()) ?? null;
  return null;
}

/** A JSON value as text; objects and arrays are not values of a CSV cell. */
function asText(value: unknown): string | null {
  if (typeof value === 'string') return value === '' ? null : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  return null;
}

function targetValue(column: ColumnSchema, target: RetrainTarget, label: unknown): number | string | { skipped: SkippedLabelReason } {
  if (column.type === 'number') {
    const number = asNumber(label);
    if (number === null) return { skipped: target.task === 'regression' ? 'not_a_number' : 'unknown_class' };
    if (target.task === 'classification' && !target.classes?.includes(String(number))) return { skipped: 'unknown_class' };
    return number;
  }
  // A text target is classification (training refuses to regress text); its classes are the labels as written.
  const text = asText(label);
  if (text === null || !target.classes?.includes(text)) return { skipped: 'unknown_class' };
  return text;
}

/**
 * One labelled production answer as a row of the base dataset's schema: the target from the label, typed as
 * the base column is; every other column from the logged inputs when it is there with a usable value (the
 * features, as serving logs them), else missing. A label the base model could never have learnt (a class it
 * does not have, a non-number for regression) is skipped with its reason rather than widening the task.
 */
export function labelledRow(schema: readonly ColumnSchema[], target: RetrainTarget, inputs: Record<string, unknown>, label: unknown): LabelledRow {
  const row = new Array<number | string | null>(schema.length);
  for (const [index, column] of schema.entries()) {
    if (column.name === target.name) {
      const value = targetValue(column, target, label);
      if (typeof value === 'object') return value;
      row[index] = value;
      continue;
    }
    const value = Object.hasOwn(inputs, column.name) ? inputs[column.name] : undefined;
    row[index] = column.type === 'number' ? (asNumber(value) ?? NaN) : asText(value);
  }
  return { row };
}
