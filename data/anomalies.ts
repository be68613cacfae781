import type { Anomaly, ColumnStats } from '../domain/dataset';

const HIGH_MISSING_RATIO = 0.5;

function percent(part: number, whole: number): string {
  return `${Math.round((100 * part) / whole)}%`;
}

function constantValue(stats: ColumnStats): string | undefined {
  // One value seen once is not evidence of a constant column.
  if (stats.count < 2) return undefined;
  if (stats.type === 'number') return stats.min !== null && stats.min === stats.max ? String(stats.min) : undefined;
  return stats.distinct === 1 && !stats.distinctCapped ? stats.top[0]?.value : undefined;
}

/** Data-quality findings a user should see before training: empty, constant and mostly-missing columns. */
export function findAnomalies(stats: ColumnStats[], rowCount: number): Anomaly[] {
  const anomalies: Anomaly[] = [];
  for (const column of stats) {
    const name = JSON.stringify(column.name);
    if (column.count === 0) {
      anomalies.push({ column: column.name, kind: 'all_missing', message: `Column ${name} has no values in any of its ${rowCount} rows.` });
      continue;
    }
    const constant = constantValue(column);
    if (constant !== undefined) {
      anomalies.push({
        column: column.name,
        kind: 'constant',
        message: `Column ${name} has the same value ${JSON.stringify(constant)} in every row that has a value, so it tells a model nothing.`,
      });
    }
    if (column.missing / rowCount > HIGH_MISSING_RATIO) {
      anomalies.push({
        column: column.name,
        kind: 'high_missing_ratio',
        message: `Column ${name} is missing in ${percent(column.missing, rowCount)} of rows (${column.missing} of ${rowCount}).`,
      });
    }
  }
  return anomalies;
}
