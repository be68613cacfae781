import { describe, expect, it } from 'vitest';
import { splitOfRun, type TrainingRunRow } from '../../activities/train/load-training-data';
import { decodeDatasetArrow, encodeDatasetArrow } from '../../data/columnar';
import { buildDesignMatrix } from '../../data/design-matrix';
import { checkSplitKey, hashSplitOf } from '../../data/row-split';
import { UserError } from '../../platform/user-error';
import { readCsv } from './csv-source';

type Row = [customer: string, tenure: number, spend: number, churned: 'yes' | 'no'];

const rows = (n: number, from = 0): Row[] => Array.from({ length: n }, (_, i) => [`c${(from + i) % 97}`, from + i, ((from + i) * 37) % 101, (from + i) % 3 === 0 ? 'yes' : 'no']);

/** What the trainer holds out: a run split as prepareTrainingRun records it, then as loadTrainingData applies it. */
async function heldOut(data: Row[], splitKey: string | null): Promise<Set<string>> {
  const table = decodeDatasetArrow(encodeDatasetArrow(await readCsv(`customer,tenure,spend,churned\n${data.map((r) => r.join(',')).join('\n')}\n`)));
  const features = ['tenure', 'spend'];
  const matrix = buildDesignMatrix(table, features, 'churned', { task: 'classification', classes: ['no', 'yes'] });
  const split = hashSplitOf(table, matrix.sourceRows, { splitKey, target: 'churned', features }, 0.2);
  const run = { split, target: 'churned', features, spec: { testFraction: 0.2, seed: 7 } } as TrainingRunRow;
  const tenure = table.numberColumn('tenure');
  return new Set(Array.from(splitOfRun(run, table, matrix).test, (i) => String(tenure[matrix.sourceRows[i] as number])));
}

describe('the hash split', () => {
  it('keeps every row on its side when rows are appended and the order changes (a retrain’s dataset)', async () => {
    const first = await heldOut(rows(400), null);
    expect(first.size).toBeGreaterThan(50);
    expect(first.size).toBeLessThan(110);
    const grown = [...rows(400), ...rows(300, 400)].reverse();
    const second = await heldOut(grown, null);
    const original = new Set(rows(400).map((r) => String(r[1])));
    expect([...second].filter((t) => original.has(t)).sort()).toEqual([...first].sort());
  });

  it('by a key column: rows sharing a key stay together, across dataset versions', async () => {
    const first = await heldOut(rows(400), 'customer');
    const byCustomer = new Map(rows(700).map((r) => [String(r[1]), r[0]]));
    const heldCustomers = new Set([...first].map((t) => byCustomer.get(t)));
    const second = await heldOut([...rows(700)].reverse(), 'customer');
    for (const tenure of second) expect(heldCustomers.has(byCustomer.get(tenure))).toBe(true);
    for (const [tenure, customer] of byCustomer) if (heldCustomers.has(customer)) expect(second.has(tenure)).toBe(true);
  });

  it('keeps a row on each side of a tiny dataset', async () => {
    for (let start = 0; start < 40; start += 4) {
      const held = await heldOut(rows(4, start), null);
      expect(held.size).toBeGreaterThan(0);
      expect(held.size).toBeLessThan(4);
    }
  });

  it('refuses a split key that is not a column with unknown_split_key', () => {
    let error: unknown;
    try {
      checkSplitKey([{ name: 'tenure', type: 'number', nullable: false }], 'customer_id');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UserError);
    expect(error).toMatchObject({ code: 'unknown_split_key', status: 422 });
  });
});
