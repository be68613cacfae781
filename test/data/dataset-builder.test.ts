import { describe, expect, it } from 'vitest';
import { decodeDatasetArrow, encodeDatasetArrow } from '../../data/columnar';
import { DatasetBuilder } from '../../data/dataset-builder';
import { readCsv } from './csv-source';

const CSV = 'id,name,score\n1,Ada,0.5\n2,Bob,\n3,,-0\n';

describe('DatasetBuilder', () => {
  it('rebuilds a stored version with the same content hash, schema, statistics and anomalies as its upload', async () => {
    const parsed = await readCsv(CSV);
    const builder = new DatasetBuilder(parsed.schema);
    builder.appendTable(decodeDatasetArrow(encodeDatasetArrow(parsed)));
    const rebuilt = await builder.finish();
    expect(rebuilt.contentHash).toBe(parsed.contentHash);
    expect(rebuilt.schema).toEqual(parsed.schema);
    expect(rebuilt.stats).toEqual(parsed.stats);
    expect(rebuilt.anomalies).toEqual(parsed.anomalies);
  });

  it('hashes appended rows as an upload of the same rows would be hashed', async () => {
    const base = await readCsv(CSV);
    const builder = new DatasetBuilder(base.schema);
    builder.appendTable(decodeDatasetArrow(encodeDatasetArrow(base)));
    builder.append([4, 'Cy', 1.25]);
    builder.append([5, null, NaN]);
    const appended = await builder.finish();
    const uploaded = await readCsv(`${CSV}4,Cy,1.25\n5,,\n`);
    expect(appended.contentHash).toBe(uploaded.contentHash);
    expect(appended.rowCount).toBe(5);
    expect(appended.stats).toEqual(uploaded.stats);
    expect(Array.from(appended.columns.score as Float64Array)).toEqual(Array.from(uploaded.columns.score as Float64Array));
  });

  it('grows past its first buffer and marks a column nullable once a value is missing', async () => {
    const builder = new DatasetBuilder([
      { name: 'x', type: 'number', nullable: false },
      { name: 'label', type: 'string', nullable: false },
    ]);
    for (let i = 0; i < 5000; i++) builder.append([i, i % 2 ? 'a' : 'b']);
    builder.append([null, 'a']);
    const built = await builder.finish();
    expect(built.rowCount).toBe(5001);
    expect((built.columns.x as Float64Array)[4999]).toBe(4999);
    expect(built.schema).toEqual([
      { name: 'x', type: 'number', nullable: true },
      { name: 'label', type: 'string', nullable: false },
    ]);
  });

  it('refuses a value of the wrong type for its column', () => {
    const builder = new DatasetBuilder([{ name: 'x', type: 'number', nullable: false }]);
    expect(() => builder.append(['7'])).toThrow(/text in number column x/);
  });
});
