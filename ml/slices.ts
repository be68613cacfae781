import type { SlicedColumn } from '../domain/model';
import { selectScored, taskMetricValues, type ScoredTask } from './metrics';

/** Reported slices per column: the most frequent values, so a free-text column cannot blow up the report. */
export const SLICE_CAP = 50;

export const MISSING_SLICE = '(missing)';

/**
 * The task's metrics on the held-out rows of each value of one column. `values[i]` is the column's value on
 * held-out row i (aligned with labels and outputs); slices come by descending rows, at most `cap`.
 */
export function sliceColumn(
  column: string,
  values: readonly (string | null)[],
  task: ScoredTask,
  labels: ArrayLike<number>,
  outputs: ArrayLike<number>,
  cap = SLICE_CAP,
): SlicedColumn {
  const width = task.task === 'regression' ? 1 : task.classes.length;
  const rowsByValue = new Map<string, number[]>();
  values.forEach((value, i) => {
    const key = value ?? MISSING_SLICE;
    const rows = rowsByValue.get(key);
    if (rows) rows.push(i);
    else rowsByValue.set(key, [i]);
  });
  const ordered = [...rowsByValue.entries()].sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1)).slice(0, cap);
  return {
    column,
    distinctValues: rowsByValue.size,
    cap,
    slices: ordered.map(([value, rows]) => {
      const scored = selectScored(labels, outputs, width, rows);
      return { value, rows: rows.length, metrics: taskMetricValues(task, scored.labels, scored.outputs) };
    }),
  };
}
