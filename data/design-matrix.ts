import type { DatasetTable } from './dataset-schema';

export interface DesignMatrix {
  /** Raw (unstandardised) features, row-major [n][features.length]. */
  x: Float32Array;
  /** Classification: the index of the row's class in `classes`; regression: the target's value. */
  y: Float32Array;
  n: number;
  /** Rows left out because a feature or the target was missing. */
  droppedRows: number;
  /** sourceRows[i]: the table row that matrix row i came from, so other columns (slices, groups) line up with it. */
  sourceRows: Uint32Array;
}

/** How the target becomes `y`: a class index, or the number itself. */
export type TargetEncoding = { task: 'classification'; classes: string[] } | { task: 'regression' };

/** Complete rows only: a row missing any feature or its target cannot be trained or scored on. */
export function buildDesignMatrix(table: DatasetTable, features: string[], target: string, encoding: TargetEncoding): DesignMatrix {
  const columns = features.map((f) => table.numberColumn(f));
  const targetValues = targetAsNumbers(table, target, encoding);
  const keep: number[] = [];
  for (let row = 0; row < table.rowCount; row++) {
    if (!Number.isFinite(targetValues[row])) continue;
    if (columns.every((c) => Number.isFinite(c[row]))) keep.push(row);
  }
  const n = keep.length;
  const f = features.length;
  const x = new Float32Array(n * f);
  const y = new Float32Array(n);
  keep.forEach((row, i) => {
    columns.forEach((column, j) => {
      x[i * f + j] = column[row] as number;
    });
    y[i] = targetValues[row] as number;
  });
  return { x, y, n, droppedRows: table.rowCount - n, sourceRows: Uint32Array.from(keep) };
}

/** NaN marks a row without a usable target. */
function targetAsNumbers(table: DatasetTable, target: string, encoding: TargetEncoding): Float64Array {
  if (encoding.task === 'regression') return table.numberColumn(target);
  const index = new Map(encoding.classes.map((label, i) => [label, i]));
  return Float64Array.from(table.stringColumn(target), (label) => (label === null ? NaN : (index.get(label) ?? NaN)));
}

/** The rows of a row-major matrix at `indices`. */
export function selectRows(x: Float32Array, width: number, indices: ArrayLike<number>): Float32Array {
  const out = new Float32Array(indices.length * width);
  for (let i = 0; i < indices.length; i++) {
    const start = (indices[i] as number) * width;
    out.set(x.subarray(start, start + width), i * width);
  }
  return out;
}

export function selectValues(y: Float32Array, indices: ArrayLike<number>): Float32Array {
  const out = new Float32Array(indices.length);
  for (let i = 0; i < indices.length; i++) out[i] = y[indices[i] as number] as number;
  return out;
}

/** A table column's values (as strings) on the matrix rows `indices`: slice and group columns aligned with the held-out rows. */
export function alignedStrings(table: DatasetTable, column: string, matrix: DesignMatrix, indices: ArrayLike<number>): (string | null)[] {
  const values = table.stringColumn(column);
  return Array.from({ length: indices.length }, (_, i) => values[matrix.sourceRows[indices[i] as number] as number] ?? null);
}
