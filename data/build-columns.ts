import { ContentHasher } from './content-hash';
import { csvRecords, PROGRESS_EVERY, type OnRowsRead, type OpenCsvStream } from './csv-records';
import type { ColumnSchema } from '../domain/dataset';
import type { ParsedDataset } from './dataset-schema';
import { parseCsvNumber } from './parse-number';
import { StringTally } from './string-tally';

type ColumnValues = ParsedDataset['columns'][string];

export interface BuiltColumns {
  columns: ParsedDataset['columns'];
  contentHash: string;
  /** Per string column; undefined for number columns. */
  tallies: (StringTally | undefined)[];
}

function changedBetweenReads(): Error {
  // Not the user's doing, and a fresh read will likely succeed, so this stays a plain (retryable) error.
  return new Error('The upload changed between the two reads of the CSV');
}

/** Pass 2: converts the rows to typed columns, hashes the normalised content and tallies string values. */
export async function buildColumns(
  openStream: OpenCsvStream,
  schema: ColumnSchema[],
  rowCount: number,
  onRowsRead?: OnRowsRead,
): Promise<BuiltColumns> {
  const arrays: ColumnValues[] = schema.map((column) =>
    column.type === 'number' ? new Float64Array(rowCount) : new Array<string | null>(rowCount).fill(null),
  );
  const tallies = schema.map((column) => (column.type === 'string' ? new StringTally() : undefined));
  const hasher = new ContentHasher();
  const width = schema.length;

  let row = -1;
  for await (const { values } of csvRecords(openStream)) {
    if (values.length !== width || row >= rowCount) throw changedBetweenReads();
    if (row === -1) {
      if (values.some((name, index) => name !== schema[index]?.name)) throw changedBetweenReads();
      hasher.addLine(values);
      row = 0;
      continue;
    }
    const canonical: (string | null)[] = new Array<string | null>(width);
    for (let index = 0; index < width; index += 1) {
      const value = values[index] ?? '';
      const column = arrays[index];
      if (column instanceof Float64Array) {
        const number = value === '' ? NaN : parseCsvNumber(value);
        if (number === undefined) throw changedBetweenReads();
        column[row] = number;
        canonical[index] = Number.isNaN(number) ? null : String(number);
      } else if (column) {
        const text = value === '' ? null : value;
        column[row] = text;
        canonical[index] = text;
        if (text !== null) tallies[index]?.add(text);
      }
    }
    hasher.addLine(canonical);
    row += 1;
    if (row % PROGRESS_EVERY === 0) onRowsRead?.(row);
  }
  if (row !== rowCount) throw changedBetweenReads();

  // A null prototype keeps column names like "__proto__" or "constructor" ordinary keys.
  const columns: ParsedDataset['columns'] = Object.create(null) as ParsedDataset['columns'];
  for (const [index, column] of schema.entries()) {
    const values = arrays[index];
    if (values) columns[column.name] = values;
  }
  return { columns, contentHash: hasher.digest(), tallies };
}
