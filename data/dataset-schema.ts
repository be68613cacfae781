import type { Anomaly, ColumnSchema, ColumnStats } from '../domain/dataset';

/** A parsed CSV held as typed columns: numbers as Float64Array (NaN = missing), strings with null = missing. */
export interface ParsedDataset {
  schema: ColumnSchema[];
  rowCount: number;
  /** sha256 (hex) of the normalised content: the same data in different bytes gives the same hash. */
  contentHash: string;
  stats: ColumnStats[];
  anomalies: Anomaly[];
  columns: Record<string, Float64Array | (string | null)[]>;
}

/** A dataset version read back from its columnar artifact. */
export interface DatasetTable {
  schema: ColumnSchema[];
  rowCount: number;
  /** Throws if the column is missing or not numeric. NaN marks a missing value. */
  numberColumn(name: string): Float64Array;
  /** Values of any column as strings (numbers formatted), null for missing. */
  stringColumn(name: string): (string | null)[];
}
