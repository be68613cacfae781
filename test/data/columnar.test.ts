import { tableFromIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { decodeDatasetArrow, encodeDatasetArrow } from '../../data/columnar';
import { UserError } from '../../platform/user-error';
import { readCsv } from './csv-source';

const csv = 'id,name,score,empty\n1,Ada,0.5,\n2,,-1e3,\n3,Bob,,\n';

function thrown(run: () => unknown): UserError {
  try {
    run();
  } catch (error) {
    if (error instanceof UserError) return error;
    throw error;
  }
  throw new Error('expected a UserError');
}

describe('the Arrow artifact', () => {
  it('round-trips schema, numbers with missing values, and strings', async () => {
    const parsed = await readCsv(csv);
    const table = decodeDatasetArrow(encodeDatasetArrow(parsed));
    expect(table.schema).toEqual(parsed.schema);
    expect(table.rowCount).toBe(3);
    expect(Array.from(table.numberColumn('score'))).toEqual([0.5, -1000, NaN]);
    expect(table.stringColumn('name')).toEqual(['Ada', null, 'Bob']);
    expect(table.stringColumn('score')).toEqual(['0.5', '-1000', null]);
    expect(table.stringColumn('empty')).toEqual([null, null, null]);
  });

  it('round-trips multi-byte text and missing values through Arrow readers', async () => {
    const parsed = await readCsv('word,n\ncafé,1\n,2\n日本語,3\n🦀 crab,4\n"a,b",5\n');
    const bytes = encodeDatasetArrow(parsed);
    const expected = ['café', null, '日本語', '🦀 crab', 'a,b'];
    expect(decodeDatasetArrow(bytes).stringColumn('word')).toEqual(expected);
    expect(tableFromIPC(bytes).getChild('word')?.toArray()).toEqual(expected);
  });

  it('holds only nullable Float64 and Utf8 columns and no metadata', async () => {
    const arrow = tableFromIPC(encodeDatasetArrow(await readCsv(csv)));
    expect(arrow.schema.fields.map((field) => [field.name, String(field.type), field.nullable])).toEqual([
      ['id', 'Float64', true],
      ['name', 'Utf8', true],
      ['score', 'Float64', true],
      ['empty', 'Utf8', true],
    ]);
    expect(arrow.schema.metadata.size).toBe(0);
    expect(arrow.schema.fields.every((field) => field.metadata.size === 0)).toBe(true);
  });

  it('encodes the same dataset to identical bytes', async () => {
    const parsed = await readCsv(csv);
    const again = await readCsv(csv.replace(/\n/g, '\r\n'));
    expect(Buffer.from(encodeDatasetArrow(parsed)).equals(Buffer.from(encodeDatasetArrow(parsed)))).toBe(true);
    expect(Buffer.from(encodeDatasetArrow(again)).equals(Buffer.from(encodeDatasetArrow(parsed)))).toBe(true);
  });

  it('rejects an unknown column and a text column asked for as numbers', async () => {
    const table = decodeDatasetArrow(encodeDatasetArrow(await readCsv(csv)));
    const unknown = thrown(() => table.numberColumn('age'));
    expect(unknown).toMatchObject({ code: 'unknown_column', status: 422, details: { column: 'age' } });
    expect(unknown.message).toMatch(/no column "age"; choose one of: id, name, score, empty/);
    expect(thrown(() => table.stringColumn('age')).code).toBe('unknown_column');
    const text = thrown(() => table.numberColumn('name'));
    expect(text).toMatchObject({ code: 'not_numeric_column', details: { column: 'name' } });
    expect(text.message).toMatch(/"name" holds text/);
  });
});
