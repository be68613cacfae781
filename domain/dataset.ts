/** What a dataset version records about its data: the inferred schema, per-column statistics and anomalies. */
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
  /** Distinct values counted up to a cap (then `distinctCapped`); absent in statistics from before they were counted. */
  distinct?: number;
  distinctCapped?: boolean;
  /** Every present value is a whole number: with `distinct`, tells class labels from measurements. */
  integers?: boolean;
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

