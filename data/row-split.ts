import { createHash } from 'node:crypto';
import type { ColumnSchema } from '../domain/dataset';
import type { TrainingSplit } from '../domain/model';
import { UserError } from '../platform/user-error';
import type { DatasetTable } from './dataset-schema';

/** 2^52: a row's place is the first 52 bits of its hash, exact in a double. */
const SCALE = 2 ** 52;

/** A row's content, as far as a split goes: its target and feature columns, in name order. */
export function contentColumns(target: string, features: readonly string[]): string[] {
  return [...new Set([target, ...features])].sort();
}

/** A split key must be a column of the dataset version. */
export function checkSplitKey(schema: ColumnSchema[], splitKey: string | undefined): void {
  if (splitKey === undefined || schema.some((c) => c.name === splitKey)) return;
  throw new UserError(
    'unknown_split_key',
    `splitKey "${splitKey.slice(0, 80)}" is not a column of the dataset; use one of: ${schema.map((c) => c.name).join(', ')}, or leave it out to split by each row's content.`,
    422,
    { field: 'splitKey', column: splitKey.slice(0, 80) },
  );
}

/**
 * Each row's place on [0, 1): sha256 of its values in `columns` (a JSON array of [column, value] pairs, values as
 * the table formats them), so a row lands on the same side in every dataset version that holds it.
 */
export function rowPlaces(table: DatasetTable, columns: readonly string[], rows: ArrayLike<number>): Float64Array {
  const values = columns.map((c) => table.stringColumn(c));
  return Float64Array.from({ length: rows.length }, (_, i) => place(columns.map((c, j) => [c, values[j]?.[rows[i] as number] ?? null])));
}

/** Places by the split key's value; a row without one (e.g. a labelled answer that did not log it) by its content. */
export function splitPlaces(table: DatasetTable, split: { key: string | null }, target: string, features: readonly string[], rows: ArrayLike<number>): Float64Array {
  const content = contentColumns(target, features);
  if (split.key === null) return rowPlaces(table, content, rows);
  const [key, keys] = [split.key, table.stringColumn(split.key)];
  const values = content.map((c) => table.stringColumn(c));
  return Float64Array.from({ length: rows.length }, (_, i) => {
    const row = rows[i] as number;
    const value = keys[row] ?? null;
    return value === null ? place(content.map((c, j) => [c, values[j]?.[row] ?? null])) : place([[key, value]]);
  });
}

function place(pairs: unknown[]): number {
  return Number.parseInt(createHash('sha256').update(JSON.stringify(pairs)).digest('hex').slice(0, 13), 16) / SCALE;
}

/**
 * Where held-out ends: `testFraction`, moved just enough to keep a row on each side of a small dataset (all
 * rows would otherwise fall on one side). Recorded on the run, so the champion comparison can re-derive the split.
 */
export function holdoutBound(places: Float64Array, testFraction: number): number {
  if (places.length < 2) return testFraction;
  let [min, max, below] = [Infinity, -Infinity, 0];
  for (const p of places) {
    min = Math.min(min, p);
    max = Math.max(max, p);
    if (p < testFraction) below++;
  }
  if (min === max) {
    throw new UserError('split_key_constant', `Every row has the same split key value, so no row can be held out; choose a splitKey with more than one value.`, 422, { field: 'splitKey' });
  }
  if (below === 0) return min + 1 / SCALE;
  if (below === places.length) return max;
  return testFraction;
}

/** Row indices on each side of `testBelow`, each side in row order. */
export function splitByPlace(places: Float64Array, testBelow: number): { train: Uint32Array; test: Uint32Array } {
  const train: number[] = [];
  const test: number[] = [];
  places.forEach((p, i) => (p < testBelow ? test : train).push(i));
  return { train: Uint32Array.from(train), test: Uint32Array.from(test) };
}

/** How a run is split: by hash of `splitKey` (or the row's content), with the bound that keeps both sides filled. */
export function hashSplitOf(table: DatasetTable, rows: ArrayLike<number>, run: { splitKey: string | null; target: string; features: string[] }, testFraction: number): TrainingSplit {
  const places = splitPlaces(table, { key: run.splitKey }, run.target, run.features, rows);
  return { method: 'hash', key: run.splitKey, testBelow: holdoutBound(places, testFraction) };
}
