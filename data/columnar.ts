import {
  DataType,
  Field,
  Float64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  tableFromIPC,
  tableToIPC,
  Utf8,
  type Data,
  type Vector,
} from 'apache-arrow';
import { UserError } from '../platform/user-error';
import type { ColumnSchema } from '../domain/dataset';
import type { DatasetTable, ParsedDataset } from './dataset-schema';

const LISTED_COLUMNS = 20;

function float64Data(values: Float64Array): Data<Float64> {
  const nullBitmap = new Uint8Array(Math.ceil(values.length / 8));
  let nullCount = 0;
  for (const [index, value] of values.entries()) {
    if (Number.isNaN(value)) nullCount += 1;
    else nullBitmap[index >> 3] = (nullBitmap[index >> 3] ?? 0) | (1 << (index & 7));
  }
  return makeData({ type: new Float64(), length: values.length, nullCount, nullBitmap, data: values });
}

/**
 * Offsets, validity and UTF-8 bytes written straight into their buffers: apache-arrow's generic builder
 * (vectorFromArray) needs several times the column's size in transient heap, which decided a large dataset's peak memory.
 */
function utf8Data(values: (string | null)[]): Data<Utf8> {
  const nullBitmap = new Uint8Array(Math.ceil(values.length / 8));
  const valueOffsets = new Int32Array(values.length + 1);
  let nullCount = 0;
  let bytes = 0;
  for (const [index, value] of values.entries()) {
    if (value === null) nullCount += 1;
    else {
      nullBitmap[index >> 3] = (nullBitmap[index >> 3] ?? 0) | (1 << (index & 7));
      bytes += Buffer.byteLength(value, 'utf8');
    }
    valueOffsets[index + 1] = bytes;
  }
  const data = new Uint8Array(bytes);
  const encoder = new TextEncoder();
  for (const [index, value] of values.entries()) if (value !== null) encoder.encodeInto(value, data.subarray(valueOffsets[index]));
  return makeData({ type: new Utf8(), length: values.length, nullCount, nullBitmap, valueOffsets, data });
}

/** The dataset as an Arrow IPC file: number → nullable Float64 (NaN → null), string → nullable Utf8, no metadata. */
export function encodeDatasetArrow(parsed: ParsedDataset): Uint8Array {
  const fields = parsed.schema.map(
    (column) => new Field(column.name, column.type === 'number' ? new Float64() : new Utf8(), true),
  );
  const children = parsed.schema.map((column) => {
    const values = parsed.columns[column.name];
    if (values === undefined) throw new Error(`column ${column.name} is in the schema but has no values`);
    return values instanceof Float64Array ? float64Data(values) : utf8Data(values);
  });
  const schema = new Schema(fields);
  const batch = new RecordBatch(
    schema,
    makeData({ type: new Struct(fields), length: parsed.rowCount, nullCount: 0, children }),
  );
  return tableToIPC(new Table(schema, [batch]), 'file');
}

function columnType(field: Field): ColumnSchema['type'] {
  if (DataType.isFloat(field.type)) return 'number';
  if (DataType.isUtf8(field.type)) return 'string';
  throw new Error(`dataset artifact column ${field.name} has unsupported Arrow type ${String(field.type)}`);
}

function unknownColumn(name: string, schema: ColumnSchema[]): UserError {
  const names = schema.map((column) => column.name);
  const listed = names.slice(0, LISTED_COLUMNS).join(', ') + (names.length > LISTED_COLUMNS ? ', …' : '');
  return new UserError(
    'unknown_column',
    `The dataset has no column ${JSON.stringify(name)}; choose one of: ${listed}.`,
    422,
    { column: name },
  );
}

function notNumericColumn(name: string): UserError {
  return new UserError(
    'not_numeric_column',
    `Column ${JSON.stringify(name)} holds text, not numbers; choose a numeric column or fix the values in the CSV.`,
    422,
    { column: name },
  );
}

/** Reads an artifact written by `encodeDatasetArrow` back as typed columns. */
export function decodeDatasetArrow(bytes: Uint8Array): DatasetTable {
  const table = tableFromIPC(bytes);
  const vectors = new Map<string, Vector>();
  const schema: ColumnSchema[] = table.schema.fields.map((field, index) => {
    const vector = table.getChildAt(index);
    if (!vector) throw new Error(`dataset artifact column ${field.name} has no data`);
    vectors.set(field.name, vector);
    return { name: field.name, type: columnType(field), nullable: vector.nullCount > 0 };
  });
  const types = new Map(schema.map((column) => [column.name, column.type]));

  const vectorOf = (name: string): Vector => {
    const vector = vectors.get(name);
    if (!vector) throw unknownColumn(name, schema);
    return vector;
  };

  return {
    schema,
    rowCount: table.numRows,
    numberColumn(name) {
      const vector = vectorOf(name);
      if (types.get(name) !== 'number') throw notNumericColumn(name);
      const values = Float64Array.from(vector.toArray() as ArrayLike<number>);
      // Slots under a null hold unspecified bytes in Arrow; NaN is this project's missing marker.
      if (vector.nullCount > 0) for (let row = 0; row < values.length; row += 1) if (!vector.isValid(row)) values[row] = NaN;
      return values;
    },
    stringColumn(name) {
      const vector = vectorOf(name);
      const values = new Array<string | null>(vector.length);
      for (let row = 0; row < vector.length; row += 1) {
        const value = vector.get(row) as string | number | null;
        values[row] = value === null ? null : String(value);
      }
      return values;
    },
  };
}
