import { UserError } from '../platform/user-error';

/** One factory per stable error code, so every CSV problem a user can fix has one message and one status. */

const MAX_QUOTED_VALUE = 80;

function quote(value: string): string {
  return JSON.stringify(value.length > MAX_QUOTED_VALUE ? `${value.slice(0, MAX_QUOTED_VALUE)}…` : value);
}

export function emptyCsv(): UserError {
  return new UserError('empty_csv', 'The file is empty; upload a CSV with a header line and at least one data row.', 422);
}

export function notCsv(reason: string): UserError {
  return new UserError(
    'not_csv',
    `The file is not a text CSV (${reason}); export the data as a comma-separated .csv file and upload that.`,
    415,
    { reason },
  );
}

export function notUtf8(at?: { line: number; position: number }): UserError {
  const where = at ? `on line ${at.line}, column ${at.position},` : 'in the file';
  return new UserError(
    'not_utf8',
    `Text ${where} is not valid UTF-8; save the file as "CSV UTF-8" and upload it again.`,
    415,
    at ?? {},
  );
}

export function malformedCsv(line: number, csvCode: string): UserError {
  const message =
    csvCode === 'CSV_QUOTE_NOT_CLOSED'
      ? `The row starting on line ${line} has a quoted value that is never closed; add the missing closing double quote (").`
      : `Line ${line} has a badly quoted value; enclose the whole value in double quotes and write any quote inside it as two quotes ("").`;
  return new UserError('malformed_csv', message, 422, { line, reason: csvCode });
}

export function rowTooLarge(line: number, maxChars: number): UserError {
  return new UserError(
    'row_too_large',
    `The row starting on line ${line} is longer than ${maxChars.toLocaleString('en-US')} characters, usually because a quote is never closed; check the quoting from that line on.`,
    422,
    { line, maxChars },
  );
}

export function tooManyColumns(columns: number, max: number): UserError {
  return new UserError(
    'too_many_columns',
    `The header has ${columns.toLocaleString('en-US')} columns, more than the ${max.toLocaleString('en-US')} allowed; drop columns or split the file.`,
    422,
    { columns, max },
  );
}

export function unsupportedDelimiter(line: number, delimiter: string): UserError {
  const name = delimiter === '\t' ? 'tabs' : `"${delimiter}"`;
  return new UserError(
    'unsupported_delimiter',
    `The header on line ${line} is a single column separated by ${name}; save the file with commas as the separator.`,
    422,
    { line, delimiter },
  );
}

export function missingHeader(line: number): UserError {
  return new UserError(
    'missing_header',
    `${line === 1 ? 'The first line' : `The first non-blank line (line ${line})`} looks like data; add a header line naming the columns.`,
    422,
    { line },
  );
}

export function emptyColumnName(line: number, position: number, isLast: boolean): UserError {
  const fix = isLast ? 'name it, or remove the trailing comma' : 'give every column a name';
  return new UserError('empty_column_name', `Column ${position} of the header (line ${line}) has no name; ${fix}.`, 422, {
    line,
    position,
  });
}

export function duplicateColumn(line: number, column: string, firstPosition: number, position: number): UserError {
  return new UserError(
    'duplicate_column',
    `The header (line ${line}) names column ${quote(column)} twice, as columns ${firstPosition} and ${position}; rename one of them.`,
    422,
    { line, column, firstPosition, position },
  );
}

export function noDataRows(): UserError {
  return new UserError('no_data_rows', 'The file has a header line but no data rows; add at least one row below the header.', 422);
}

export function raggedRow(row: number, line: number, expected: number, actual: number): UserError {
  const fix =
    actual > expected
      ? 'remove the extra commas, or quote values that contain commas'
      : 'add the missing values (leave a cell empty if it is unknown)';
  return new UserError(
    'ragged_row',
    `Row ${row} (line ${line}) has ${actual} values but the header has ${expected} columns; ${fix}.`,
    422,
    { row, line, expected, actual },
  );
}

export function nonNumericValue(column: string, at: { row: number; line: number; value: string }): UserError {
  return new UserError(
    'non_numeric_value',
    `Column ${quote(column)} holds numbers, but row ${at.row} (line ${at.line}) has ${quote(at.value)}; correct the value, or leave the cell empty if it is unknown.`,
    422,
    { row: at.row, line: at.line, column, value: at.value.slice(0, MAX_QUOTED_VALUE) },
  );
}
