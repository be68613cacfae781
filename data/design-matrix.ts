import type { DatasetTable } from './dataset-schema';

export interface DesignMatrix {
  /** Raw (unstandardised) features, row-major [n][features.length]. */
  x: Float32Array;
  /** 1 for `classes[1]`, 0 for `classes[0]`. */
  y: Float32Array;
  n: number;
  /** Rows left out because a feature or the target was missing. */
  droppedRows: number;
}

/** Complete rows only: a row missing any feature or its label cannot be trained or scored on. */
export function buildDesignMatrix(table: DatasetTable, features: string[], target: string, classes: [string, string]): DesignMatrix {
  const columns = features.map((f) => table.numberColumn(f));
  const labels = table.stringColumn(target);
  const keep: number[] = [];
  for (let row = 0; row < table.rowCount; row++) {
    const label = labels[row];
    if (label === null || label === undefined) continue;
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
    y[i] = labels[row] === classes[1] ? 1 : 0;
  });
  return { x, y, n, droppedRows: table.rowCount - n };
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
