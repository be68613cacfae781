import { describe, expect, it } from 'vitest';
import { DISTINCT_CAP } from '../../data/string-tally';
import { readCsv } from './csv-source';

describe('column statistics', () => {
  it('summarises a number column over its non-missing values', async () => {
    const parsed = await readCsv('x,id\n4,a\n1,b\n,c\n3,d\n2,e\n');
    const [stats] = parsed.stats;
    expect(stats).toMatchObject({ name: 'x', type: 'number', count: 4, missing: 1, min: 1, max: 4, mean: 2.5, median: 2.5 });
    expect(stats?.type === 'number' ? stats.std : undefined).toBeCloseTo(Math.sqrt(1.25), 12);
  });

  it('summarises a string column with its most frequent values', async () => {
    const values = ['b', 'a', 'b', 'c', '', 'd', 'e', 'f', 'a', 'b'];
    const parsed = await readCsv(`c,n\n${values.map((value, row) => `${value},${row}`).join('\n')}\n`);
    expect(parsed.stats[0]).toEqual({
      name: 'c',
      type: 'string',
      count: 9,
      missing: 1,
      distinct: 6,
      distinctCapped: false,
      top: [
        { value: 'b', count: 3 },
        { value: 'a', count: 2 },
        { value: 'c', count: 1 },
        { value: 'd', count: 1 },
        { value: 'e', count: 1 },
      ],
    });
  });

  it('stops counting distinct values at the cap', async () => {
    const rows = Array.from({ length: DISTINCT_CAP + 5 }, (_, i) => `id-${i}`).join('\n');
    const [stats] = (await readCsv(`key\n${rows}\nid-0\n`)).stats;
    expect(stats).toMatchObject({ distinct: DISTINCT_CAP, distinctCapped: true, count: DISTINCT_CAP + 6 });
    expect(stats?.type === 'string' ? stats.top[0] : undefined).toEqual({ value: 'id-0', count: 2 });
  });
});

describe('anomalies', () => {
  it('flags empty, constant and mostly missing columns, each with a sentence', async () => {
    const parsed = await readCsv('id,blank,country,sparse,flag\n1,,NL,9,7\n2,,NL,,7\n3,,NL,,7\n4,,,,\n');
    expect(parsed.anomalies.map(({ column, kind }) => ({ column, kind }))).toEqual([
      { column: 'blank', kind: 'all_missing' },
      { column: 'country', kind: 'constant' },
      { column: 'sparse', kind: 'high_missing_ratio' },
      { column: 'flag', kind: 'constant' },
    ]);
    const messages = Object.fromEntries(parsed.anomalies.map((anomaly) => [anomaly.column, anomaly.message]));
    expect(messages.blank).toBe('Column "blank" has no values in any of its 4 rows.');
    expect(messages.country).toMatch(/^Column "country" has the same value "NL" in every row/);
    expect(messages.sparse).toBe('Column "sparse" is missing in 75% of rows (3 of 4).');
    expect(messages.flag).toMatch(/same value "7"/);
  });

  it('does not call a column constant from a single value, nor flag exactly half missing', async () => {
    const parsed = await readCsv('a,b\n1,x\n2,\n');
    expect(parsed.anomalies).toEqual([]);
  });
});
