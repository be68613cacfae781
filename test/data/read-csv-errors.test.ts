import { describe, expect, it } from 'vitest';
import { MAX_COLUMNS } from '../../data/csv-header';
import { readCsv, rejection } from './csv-source';

describe('readCsvDataset rejects what the user must fix', () => {
  it.each([
    ['an empty file', ''],
    ['whitespace only', '  \n \r\n\t\n'],
    ['a BOM only', '\uFEFF'],
  ])('empty_csv for %s', async (_, content) => {
    const error = await rejection(content);
    expect(error.code).toBe('empty_csv');
    expect(error.status).toBe(422);
  });

  it('not_csv (415) for a file with NUL bytes', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52]);
    const error = await rejection(png);
    expect(error).toMatchObject({ code: 'not_csv', status: 415, details: { reason: 'it contains NUL bytes' } });
    expect(error.message).toMatch(/comma-separated \.csv/);
  });

  it('not_csv for binary control bytes without NULs', async () => {
    const error = await rejection(Buffer.from('\x01\x02\x03\x04\x05\x06\x07\x08a,b\n1,2\n', 'latin1'));
    expect(error).toMatchObject({ code: 'not_csv', status: 415, details: { reason: 'it contains binary control bytes' } });
  });

  it('not_csv for a NUL byte after the first chunk too', async () => {
    const error = await rejection(Buffer.concat([Buffer.from(`a,b\n${'1,2\n'.repeat(50_000)}`), Buffer.from([0])]));
    expect(error.code).toBe('not_csv');
  });

  it('not_utf8 (415) names the line and column of a Latin-1 value', async () => {
    const error = await rejection(Buffer.from('name,city\nAda,London\nBob,Z\xfcrich\n', 'latin1'));
    expect(error).toMatchObject({ code: 'not_utf8', status: 415, details: { line: 3, position: 2 } });
    expect(error.message).toMatch(/line 3, column 2.*CSV UTF-8/);
  });

  it('malformed_csv for a quote that is never closed, at the line of its row', async () => {
    const error = await rejection('a,b\n1,2\n\n"3,4\n5,6\n');
    expect(error).toMatchObject({ code: 'malformed_csv', status: 422, details: { line: 4, reason: 'CSV_QUOTE_NOT_CLOSED' } });
    expect(error.message).toMatch(/line 4.*closing double quote/);
  });

  it('malformed_csv for text after a closing quote', async () => {
    const error = await rejection('a,b\n1,2\n3,"4"x\n');
    expect(error).toMatchObject({ code: 'malformed_csv', details: { line: 3 } });
    expect(error.message).toMatch(/^Line 3 /);
  });

  it('row_too_large for a quote left open over a huge file', async () => {
    const error = await rejection(`a\n1\n"${'x'.repeat(17 * 1024 * 1024)}\n`);
    expect(error).toMatchObject({ code: 'row_too_large', details: { line: 3 } });
  });

  it('empty_column_name gives the position', async () => {
    const error = await rejection('id,,score\n1,2,3\n');
    expect(error).toMatchObject({ code: 'empty_column_name', details: { line: 1, position: 2 } });
    expect(error.message).toMatch(/Column 2 of the header.*give every column a name/);
  });

  it('empty_column_name suggests removing a trailing comma', async () => {
    const error = await rejection('id,score,\n1,2,\n');
    expect(error).toMatchObject({ code: 'empty_column_name', details: { position: 3 } });
    expect(error.message).toMatch(/trailing comma/);
  });

  it('duplicate_column names the column and both positions', async () => {
    const error = await rejection('id,name,id\n1,a,2\n');
    expect(error).toMatchObject({ code: 'duplicate_column', details: { column: 'id', firstPosition: 1, position: 3 } });
    expect(error.message).toMatch(/"id" twice, as columns 1 and 3/);
  });

  it('duplicate_column compares trimmed names', async () => {
    expect((await rejection('id, id \n1,2\n')).code).toBe('duplicate_column');
  });

  it('missing_header when the first line is all numbers', async () => {
    const error = await rejection('1,2.5,3\n4,5,6\n');
    expect(error).toMatchObject({ code: 'missing_header', details: { line: 1 } });
    expect(error.message).toBe('The first line looks like data; add a header line naming the columns.');
  });

  it('unsupported_delimiter for a semicolon-separated file', async () => {
    const error = await rejection('a;b;c\n1;2;3\n');
    expect(error).toMatchObject({ code: 'unsupported_delimiter', details: { delimiter: ';' } });
    expect(error.message).toMatch(/commas as the separator/);
  });

  it.each([
    ['only a header', 'a,b\n'],
    ['a header and blank lines', 'a,b\r\n\r\n   \r\n'],
  ])('no_data_rows for %s', async (_, content) => {
    expect((await rejection(content)).code).toBe('no_data_rows');
  });

  it('ragged_row counts data rows and file lines, past quoted newlines and blank lines', async () => {
    const error = await rejection('a,b,c\n1,"two\nlines",3\n\n4,5\n');
    expect(error).toMatchObject({ code: 'ragged_row', status: 422, details: { row: 2, line: 5, expected: 3, actual: 2 } });
    expect(error.message).toMatch(/^Row 2 \(line 5\) has 2 values but the header has 3 columns; add the missing values/);
  });

  it('ragged_row for extra values suggests quoting', async () => {
    const error = await rejection('a,b\n1,2\n3,4,5\n');
    expect(error).toMatchObject({ details: { row: 2, line: 3, expected: 2, actual: 3 } });
    expect(error.message).toMatch(/quote values that contain commas/);
  });

  it('too_many_columns above the limit', async () => {
    const header = Array.from({ length: MAX_COLUMNS + 1 }, (_, i) => `c${i}`).join(',');
    const error = await rejection(`${header}\n`);
    expect(error).toMatchObject({ code: 'too_many_columns', details: { columns: 2001, max: 2000 } });
  });

  it('accepts exactly the column limit', async () => {
    const header = Array.from({ length: MAX_COLUMNS }, (_, i) => `c${i}`).join(',');
    const row = Array.from({ length: MAX_COLUMNS }, (_, i) => String(i)).join(',');
    const parsed = await readCsv(`${header}\n${row}\n`);
    expect(parsed.schema).toHaveLength(MAX_COLUMNS);
  });

  it('non_numeric_value for a typo in a mostly numeric column', async () => {
    const error = await rejection('id,age\n1,30\n2,31\n3,3O\n4,40\n');
    expect(error).toMatchObject({
      code: 'non_numeric_value',
      status: 422,
      details: { row: 3, line: 4, column: 'age', value: '3O' },
    });
    expect(error.message).toBe(
      'Column "age" holds numbers, but row 3 (line 4) has "3O"; correct the value, or leave the cell empty if it is unknown.',
    );
  });

  it('non_numeric_value reports the first bad value in file order across columns', async () => {
    const error = await rejection('x,y\n1,1\n2,oops\nbad,3\n4,4\n');
    expect(error.details).toMatchObject({ row: 2, column: 'y', value: 'oops' });
  });
});
