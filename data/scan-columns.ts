import { emptyCsv, noDataRows, raggedRow } from './csv-errors';
import { checkHeader } from './csv-header';
import { csvRecords, PROGRESS_EVERY, type OnRowsRead, type OpenCsvStream } from './csv-records';
import { hasLeadingZero, parseCsvNumber } from './parse-number';

/** A value and where it sits: `row` counts data rows from 1, `line` counts file lines from 1. */
export interface ValueAt {
  row: number;
  line: number;
  value: string;
}

/** What pass 1 learns about a column without keeping its values. */
export interface ColumnScan {
  name: string;
  nonMissing: number;
  numeric: number;
  leadingZero: boolean;
  firstNonNumeric?: ValueAt;
}

export interface CsvScan {
  header: string[];
  rowCount: number;
  columns: ColumnScan[];
}

/** Pass 1: checks the header and row shapes and counts, per column, the values that parse as numbers. */
export async function scanColumns(openStream: OpenCsvStream, onRowsRead?: OnRowsRead): Promise<CsvScan> {
  let header: string[] | undefined;
  let columns: ColumnScan[] = [];
  let rowCount = 0;
  for await (const { values, line } of csvRecords(openStream)) {
    if (header === undefined) {
      header = checkHeader({ values, line });
      columns = header.map((name) => ({ name, nonMissing: 0, numeric: 0, leadingZero: false }));
      continue;
    }
    rowCount += 1;
    if (rowCount % PROGRESS_EVERY === 0) onRowsRead?.(rowCount);
    if (values.length !== header.length) throw raggedRow(rowCount, line, header.length, values.length);
    for (const [index, column] of columns.entries()) {
      const value = values[index] ?? '';
      if (value === '') continue;
      column.nonMissing += 1;
      if (parseCsvNumber(value) === undefined) {
        column.firstNonNumeric ??= { row: rowCount, line, value };
      } else {
        column.numeric += 1;
        if (!column.leadingZero && hasLeadingZero(value)) column.leadingZero = true;
      }
    }
  }
  if (header === undefined) throw emptyCsv();
  if (rowCount === 0) throw noDataRows();
  return { header, rowCount, columns };
}
