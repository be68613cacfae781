/** Types of a dataset version: its inferred schema, per-column statistics and anomalies. */
export type ColumnType = 'number' | 'string';

export interface ColumnSchema {
  name: string;
  type: ColumnType;
  nullable: boolean;
}

export interface NumberColumnStats {
  name: string;
  type: 'number';
  count: number;
  missing: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  std: number | null;
  median: number | null;
}

export interface StringColumnStats {
  name: string;
  type: 'string';
  count: number;
  missing: number;
  /** Distinct non-missing values, counted up to a cap (see `distinctCapped`). */
  distinct: number;
  distinctCapped: boolean;
  top: { value: string; count: number }[];
}

export type ColumnStats = NumberColumnStats | StringColumnStats;

export interface Anomaly {
  column: string;
  kind: 'all_missing' | 'constant' | 'high_missing_ratio';
  message: string;
}

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
