import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readCsvDataset } from '../../data/read-csv';

const ROWS = 200_000;
const ROWS_PER_CHUNK = 1_000;

/** A CSV produced chunk by chunk, so no full copy of its text exists anywhere. */
function* generatedCsv(): Generator<Buffer> {
  yield Buffer.from('id,group,value,note\n');
  for (let start = 0; start < ROWS; start += ROWS_PER_CHUNK) {
    let chunk = '';
    for (let id = start; id < start + ROWS_PER_CHUNK; id += 1) {
      chunk += `${id},g${id % 4},${id % 10 === 0 ? '' : (id % 100) / 4},"row ${id}, ok"\r\n`;
    }
    yield Buffer.from(chunk);
  }
}

describe('readCsvDataset on a large upload', () => {
  it(`streams ${ROWS.toLocaleString('en-US')} rows in two passes`, async () => {
    let opened = 0;
    let chunksRead = 0;
    const openStream = () => {
      opened += 1;
      return Readable.from(
        (function* () {
          for (const chunk of generatedCsv()) {
            chunksRead += 1;
            yield chunk;
          }
        })(),
      );
    };
    const progress: string[] = [];
    const parsed = await readCsvDataset(openStream, { onProgress: ({ pass, rows }) => progress.push(`${pass}:${rows}`) });

    expect(opened).toBe(2);
    expect(chunksRead).toBe(2 * (1 + ROWS / ROWS_PER_CHUNK));
    expect(parsed.rowCount).toBe(ROWS);
    expect(parsed.schema.map((column) => column.type)).toEqual(['number', 'string', 'number', 'string']);
    expect(parsed.stats[2]).toMatchObject({ count: ROWS * 0.9, missing: ROWS / 10, min: 0.25, max: 24.75 });
    expect(parsed.stats[1]).toMatchObject({ distinct: 4, top: [{ value: 'g0', count: ROWS / 4 }, { value: 'g1', count: ROWS / 4 }, { value: 'g2', count: ROWS / 4 }, { value: 'g3', count: ROWS / 4 }] });
    expect(parsed.stats[3]).toMatchObject({ distinct: 10_000, distinctCapped: true });
    expect((parsed.columns.note as (string | null)[])[ROWS - 1]).toBe(`row ${ROWS - 1}, ok`);
    expect(progress).toHaveLength(2 * (ROWS / 10_000));
    expect(progress.at(-1)).toBe(`2:${ROWS}`);
  }, 20_000);
});

describe('readCsvDataset and its source stream', () => {
  it('accepts string chunks as well as bytes', async () => {
    const parsed = await readCsvDataset(() => Readable.from(['a,b\n1,', 'x\n2,y\n']));
    expect(parsed.columns.b).toEqual(['x', 'y']);
  });

  it('passes a failing source through unchanged, as a retryable error', async () => {
    const failure = new Error('connection reset');
    const openStream = () =>
      Readable.from(
        (function* () {
          yield Buffer.from('a,b\n1,2\n');
          throw failure;
        })(),
      );
    await expect(readCsvDataset(openStream)).rejects.toBe(failure);
  });
});
