import { describe, expect, it } from 'vitest';
import { readCsv, rejection } from './csv-source';

describe('readCsvDataset infers column types', () => {
  it('reads decimal notation as numbers', async () => {
    const parsed = await readCsv('x\n1e3\n-0.5\n+2\n.5\n5.\n');
    expect(parsed.schema).toEqual([{ name: 'x', type: 'number', nullable: false }]);
    expect(Array.from(parsed.columns.x as Float64Array)).toEqual([1000, -0.5, 2, 0.5, 5]);
  });

  it('keeps text columns as trimmed strings', async () => {
    const parsed = await readCsv('name,city\n  Ada , London\n"Bob ","New York, NY"\n');
    expect(parsed.schema.map((column) => column.type)).toEqual(['string', 'string']);
    expect(parsed.columns.name).toEqual(['Ada', 'Bob']);
    expect(parsed.columns.city).toEqual(['London', 'New York, NY']);
  });

  it('treats quoted integers as numbers', async () => {
    const parsed = await readCsv('n\n"42"\n"7"\n');
    expect(parsed.schema[0]?.type).toBe('number');
    expect(Array.from(parsed.columns.n as Float64Array)).toEqual([42, 7]);
  });

  it('keeps zero-padded codes as strings with their zeros', async () => {
    const parsed = await readCsv('zip\n02139\n10001\n94105\n');
    expect(parsed.schema[0]?.type).toBe('string');
    expect(parsed.columns.zip).toEqual(['02139', '10001', '94105']);
  });

  it('does not read hex, NaN, Infinity or thousands separators as numbers', async () => {
    const parsed = await readCsv('v\n0x10\nNaN\nInfinity\n"1,000"\n7\n');
    expect(parsed.schema[0]?.type).toBe('string');
    expect((await rejection('v\n1\n2\nInfinity\n')).details).toMatchObject({ column: 'v', value: 'Infinity' });
  });

  it('needs a strict majority of numbers before calling a value a typo', async () => {
    const parsed = await readCsv('code\n1\nA\n2\nB\n');
    expect(parsed.schema[0]?.type).toBe('string');
    expect(parsed.columns.code).toEqual(['1', 'A', '2', 'B']);
  });

  it('reads empty and blank cells as missing', async () => {
    const parsed = await readCsv('x,label\n1,a\n,\n  3 ,   \n');
    expect(parsed.schema).toEqual([
      { name: 'x', type: 'number', nullable: true },
      { name: 'label', type: 'string', nullable: true },
    ]);
    expect(Array.from(parsed.columns.x as Float64Array)).toEqual([1, NaN, 3]);
    expect(parsed.columns.label).toEqual(['a', null, null]);
  });

  it('skips blank lines, so a one-column file writes a missing value as ""', async () => {
    const parsed = await readCsv('x\n1\n\n   \n""\n2\n');
    expect(Array.from(parsed.columns.x as Float64Array)).toEqual([1, NaN, 2]);
  });

  it('types a column with no values as a nullable string', async () => {
    const parsed = await readCsv('x,empty\n1,\n2,\n');
    expect(parsed.schema[1]).toEqual({ name: 'empty', type: 'string', nullable: true });
    expect(parsed.columns.empty).toEqual([null, null]);
  });

  it('keeps quoted commas and newlines, with CRLF inside a value read as LF', async () => {
    const parsed = await readCsv('id,note\r\n1,"a, b"\r\n2,"line one\r\nline two"\r\n');
    expect(parsed.rowCount).toBe(2);
    expect(parsed.columns.note).toEqual(['a, b', 'line one\nline two']);
  });

  it('reads a literal quote inside an unquoted value', async () => {
    const parsed = await readCsv('item\n12" pizza\n"say ""hi"""\n');
    expect(parsed.columns.item).toEqual(['12" pizza', 'say "hi"']);
  });

  it('handles a BOM, mixed line ends, blank lines and no trailing newline', async () => {
    const parsed = await readCsv('\uFEFFa,b\r\n1,2\n\n3,4\r5,6');
    expect(parsed.schema.map((column) => column.name)).toEqual(['a', 'b']);
    expect(Array.from(parsed.columns.b as Float64Array)).toEqual([2, 4, 6]);
  });

  it('allows column names that clash with Object.prototype', async () => {
    const parsed = await readCsv('__proto__,constructor\n1,x\n');
    expect(Array.from(parsed.columns.__proto__ as Float64Array)).toEqual([1]);
    expect(parsed.columns.constructor).toEqual(['x']);
    expect('toString' in parsed.columns).toBe(false);
  });

  it('reads the same file split into 1-byte chunks, through multi-byte characters and CRLF', async () => {
    const content = 'name,score\r\n"Zoë, Ünal",1.5\r\n日本,2\r\n';
    const whole = await readCsv(content);
    const bytewise = await readCsv(content, 1);
    expect(bytewise.columns).toEqual(whole.columns);
    expect(bytewise.contentHash).toBe(whole.contentHash);
    expect(whole.columns.name).toEqual(['Zoë, Ünal', '日本']);
  });
});
