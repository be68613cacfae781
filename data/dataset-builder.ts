import type { ColumnSchema } from '../domain/dataset';
import { findAnomalies } from './anomalies';
import { columnStats } from './column-stats';
import { ContentHasher } from './content-hash';
import type { DatasetTable, ParsedDataset } from './dataset-schema';
import { StringTally } from './string-tally';

/** One row in schema order: a number (NaN = missing) for number columns, a string or null for string columns. */
export type DatasetRowValues = readonly (number | string | null)[];

/** A Float64Array that doubles when full, so appended rows cost 8 bytes each rather than a boxed JS number. */
class GrowableNumbers {
  private values = new Float64Array(1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }

  toArray(): Float64Array {
    return this.values.slice(0, this.length);
  }
}

type Column = { type: 'number'; values: GrowableNumbers } | { type: 'string'; values: (string | null)[]; tally: StringTally };

/**
 * Builds a dataset version row by row, the way an ingest would have built it from a CSV of the same rows:
 * the content hash covers the header and each row's canonical values (so the same rows give the same hash
 * as an upload), and `finish` profiles the columns (schema nullability, statistics, anomalies).
 */
export class DatasetBuilder {
  private readonly hasher = new ContentHasher();
  private readonly columns: Column[];
  private rows = 0;

  constructor(private readonly schema: readonly ColumnSchema[]) {
    this.hasher.addLine(schema.map((column) => column.name));
    this.columns = schema.map((column) =>
      column.type === 'number' ? { type: 'number', values: new GrowableNumbers() } : { type: 'string', values: [], tally: new StringTally() },
    );
  }

  get rowCount(): number {
    return this.rows;
  }

  /** Appends one row; a value of the wrong type for its column is a programming error, not missing data. */
  append(row: DatasetRowValues): void {
    if (row.length !== this.columns.length) throw new Error(`a row of ${row.length} values for ${this.columns.length} columns`);
    const canonical = new Array<string | null>(row.length);
    this.columns.forEach((column, index) => {
      const value = row[index] ?? null;
      if (column.type === 'number') {
        if (typeof value === 'string') throw new Error(`text in number column ${this.schema[index]?.name}`);
        const number = value === null || !Number.isFinite(value) ? NaN : value;
        column.values.push(number);
        canonical[index] = Number.isNaN(number) ? null : String(number);
      } else {
        if (typeof value === 'number') throw new Error(`a number in text column ${this.schema[index]?.name}`);
        column.values.push(value);
        canonical[index] = value;
        if (value !== null) column.tally.add(value);
      }
    });
    this.hasher.addLine(canonical);
    this.rows += 1;
  }

  /** Appends every row of a stored version whose schema is this builder's (same names, same types, same order). */
  appendTable(table: DatasetTable, onRows?: (rows: number) => void): void {
    const columns = this.schema.map((column) => (column.type === 'number' ? table.numberColumn(column.name) : table.stringColumn(column.name)));
    const row = new Array<number | string | null>(columns.length);
    for (let index = 0; index < table.rowCount; index += 1) {
      columns.forEach((values, c) => {
        row[c] = values[index] ?? null;
      });
      this.append(row);
      if ((index + 1) % 10_000 === 0) onRows?.(index + 1);
    }
  }

  /** The built dataset with its profile; call once, after the last row. */
  async finish(): Promise<ParsedDataset> {
    const columns: ParsedDataset['columns'] = Object.create(null) as ParsedDataset['columns'];
    const schema: ColumnSchema[] = this.schema.map((column, index) => {
      const built = this.columns[index];
      if (!built) throw new Error(`column ${column.name} was not built`);
      const values = built.type === 'number' ? built.values.toArray() : built.values;
      columns[column.name] = values;
      const missing = values instanceof Float64Array ? values.some((v) => Number.isNaN(v)) : values.includes(null);
      return { name: column.name, type: column.type, nullable: missing };
    });
    const tallies = this.columns.map((column) => (column.type === 'string' ? column.tally : undefined));
    const stats = await columnStats(schema, columns, tallies);
    return { schema, rowCount: this.rows, contentHash: this.hasher.digest(), stats, anomalies: findAnomalies(stats, this.rows), columns };
  }
}
