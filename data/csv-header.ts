import {
  duplicateColumn,
  emptyColumnName,
  missingHeader,
  tooManyColumns,
  unsupportedDelimiter,
} from './csv-errors';
import { type CsvRecord } from './csv-records';
import { parseCsvNumber } from './parse-number';

export const MAX_COLUMNS = 2000;

const OTHER_DELIMITERS = [';', '\t', '|'];

/** Checks the header record and returns the column names; the most fundamental problem is reported first. */
export function checkHeader(header: CsvRecord): string[] {
  const { values: names, line } = header;
  if (names.length > MAX_COLUMNS) throw tooManyColumns(names.length, MAX_COLUMNS);

  const only = names.length === 1 ? names[0] : undefined;
  const delimiter = only === undefined ? undefined : OTHER_DELIMITERS.find((d) => only.includes(d));
  if (delimiter !== undefined) throw unsupportedDelimiter(line, delimiter);

  const named = names.filter((name) => name !== '');
  if (named.length > 0 && named.every((name) => parseCsvNumber(name) !== undefined)) throw missingHeader(line);

  const firstPositions = new Map<string, number>();
  for (const [index, name] of names.entries()) {
    const position = index + 1;
    if (name === '') throw emptyColumnName(line, position, position === names.length);
    const firstPosition = firstPositions.get(name);
    if (firstPosition !== undefined) throw duplicateColumn(line, name, firstPosition, position);
    firstPositions.set(name, position);
  }
  return names;
}
