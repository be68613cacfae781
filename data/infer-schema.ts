import type { ColumnSchema, ColumnType } from '../domain/dataset';
import { nonNumericValue } from './csv-errors';
import { type ColumnScan, type CsvScan } from './scan-columns';

/**
 * A column is `number` when all its non-missing values are numbers, and none is a zero-padded code ("007").
 * When numbers are only a strict majority, the odd value is most likely a typo, so it is reported, not guessed at.
 */
function inferType(column: ColumnScan): ColumnType | 'mostly_number' {
  if (column.nonMissing === 0 || column.leadingZero) return 'string';
  if (column.numeric === column.nonMissing) return 'number';
  return column.numeric * 2 > column.nonMissing ? 'mostly_number' : 'string';
}

/** Types each column from pass 1's counts; throws `non_numeric_value` for the first such value in file order. */
export function inferSchema(scan: CsvScan): ColumnSchema[] {
  const typos = scan.columns
    .filter((column) => inferType(column) === 'mostly_number')
    .flatMap((column) => (column.firstNonNumeric ? [{ column: column.name, at: column.firstNonNumeric }] : []))
    .sort((a, b) => a.at.row - b.at.row);
  const first = typos[0];
  if (first) throw nonNumericValue(first.column, first.at);

  return scan.columns.map((column) => ({
    name: column.name,
    type: inferType(column) === 'number' ? 'number' : 'string',
    nullable: column.nonMissing < scan.rowCount,
  }));
}
