import type { ModelOutputSchema } from '../db/schema';
import { UserError } from '../platform/user-error';
import type { Prediction } from '../serving/predictor';

/** A tensor as the Open Inference Protocol's REST binding writes it: row-major `data`, flat or nested. */
export interface V2Tensor {
  name: string;
  shape: number[];
  datatype: string;
  parameters?: Record<string, string | number | boolean>;
  data: unknown[];
}

export interface V2TensorMetadata {
  name: string;
  datatype: string;
  /** -1 marks the batch dimension. */
  shape: number[];
}

const INTEGER_TYPES = new Set(['INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT16', 'UINT32', 'UINT64']);
const FLOAT_TYPES = new Set(['FP16', 'FP32', 'FP64']);

/** The name of the one-tensor form: every feature of a record in a row, in the model's feature order. */
export const FEATURES_TENSOR = 'features';

/**
 * Turns V2 input tensors into prediction records: either one tensor per feature (shape [n] or [n, 1]) or one
 * `features` tensor [n, f] whose columns follow `features`. Every error names the input and says what to send.
 */
export function tensorsToRecords(inputs: V2Tensor[], features: string[], maxRecords: number): Record<string, number>[] {
  const seen = new Set<string>();
  inputs.forEach((input, i) => {
    if (seen.has(input.name)) throw new UserError('duplicate_input', `inputs[${i}] repeats the name "${input.name}"; send each input tensor once.`, 400, { field: `inputs[${i}].name` });
    seen.add(input.name);
  });
  const matrix = inputs.length === 1 && inputs[0]?.name === FEATURES_TENSOR && !features.includes(FEATURES_TENSOR);
  const records = matrix ? matrixRecords(inputs[0] as V2Tensor, features) : perFeatureRecords(inputs, features);
  if (records.length === 0) throw new UserError('empty_batch', 'The input tensors hold no rows; send at least one record (shape [1, …]).', 400, { field: 'inputs' });
  if (records.length > maxRecords) {
    throw new UserError('too_many_records', `The input tensors hold ${records.length} rows; send at most ${maxRecords} per request.`, 400, { field: 'inputs', limit: maxRecords });
  }
  return records;
}

function matrixRecords(input: V2Tensor, features: string[]): Record<string, number>[] {
  const values = numericData(input, 0);
  const [n, width] = input.shape;
  if (input.shape.length !== 2 || width !== features.length || n === undefined) {
    throw new UserError(
      'tensor_shape_mismatch',
      `inputs[0] ("${FEATURES_TENSOR}") has shape [${input.shape.join(', ')}]; send [n, ${features.length}]: one row per record, columns in the model's feature order (${features.join(', ')}).`,
      400,
      { field: 'inputs[0].shape' },
    );
  }
  return Array.from({ length: n }, (_, row) => Object.fromEntries(features.map((f, j) => [f, values[row * width + j] as number])));
}

function perFeatureRecords(inputs: V2Tensor[], features: string[]): Record<string, number>[] {
  const columns = new Map<string, number[]>();
  let n: number | undefined;
  inputs.forEach((input, i) => {
    if (!features.includes(input.name)) {
      throw new UserError(
        'unknown_input',
        `inputs[${i}] is named "${input.name.slice(0, 80)}", which this model does not take; send one tensor per feature (${features.join(', ')}) or one "${FEATURES_TENSOR}" tensor [n, ${features.length}].`,
        400,
        { field: `inputs[${i}].name` },
      );
    }
    const values = numericData(input, i);
    const [rows, width] = input.shape;
    if (rows === undefined || input.shape.length > 2 || (input.shape.length === 2 && width !== 1)) {
      throw new UserError('tensor_shape_mismatch', `inputs[${i}] ("${input.name}") has shape [${input.shape.join(', ')}]; a feature tensor has shape [n] or [n, 1].`, 400, {
        field: `inputs[${i}].shape`,
      });
    }
    if (n !== undefined && rows !== n) {
      throw new UserError('batch_size_mismatch', `inputs[${i}] ("${input.name}") has ${rows} rows but inputs[0] has ${n}; every feature tensor needs one value per record.`, 400, {
        field: `inputs[${i}].shape`,
      });
    }
    n = rows;
    columns.set(input.name, values);
  });
  const missing = features.filter((f) => !columns.has(f));
  if (missing.length > 0) {
    throw new UserError('missing_input', `The model needs one input tensor per feature; missing: ${missing.join(', ')}.`, 400, { field: 'inputs', missing: missing.join(',') });
  }
  return Array.from({ length: n ?? 0 }, (_, row) => Object.fromEntries(features.map((f) => [f, (columns.get(f) as number[])[row] as number])));
}

/** The tensor's elements, flattened row-major, checked against its datatype and shape. */
function numericData(input: V2Tensor, index: number): number[] {
  const label = `inputs[${index}] ("${input.name.slice(0, 80)}")`;
  if (!INTEGER_TYPES.has(input.datatype) && !FLOAT_TYPES.has(input.datatype)) {
    throw new UserError('unsupported_datatype', `${label} has datatype ${input.datatype.slice(0, 20)}; features are numbers: send FP32, FP64, INT32 or INT64 (any INT, UINT or FP type works).`, 400, {
      field: `inputs[${index}].datatype`,
    });
  }
  const values: unknown[] = input.data.flat(Infinity);
  const expected = input.shape.reduce((a, b) => a * b, 1);
  if (values.length !== expected) {
    throw new UserError('tensor_shape_mismatch', `${label} has shape [${input.shape.join(', ')}], which holds ${expected} elements, but its data has ${values.length}.`, 400, {
      field: `inputs[${index}].data`,
    });
  }
  const integer = INTEGER_TYPES.has(input.datatype);
  const unsigned = input.datatype.startsWith('UINT');
  values.forEach((v, j) => {
    const ok = typeof v === 'number' && Number.isFinite(v) && (!integer || Number.isInteger(v)) && (!unsigned || v >= 0);
    if (!ok) {
      const kind = unsigned ? 'non-negative whole numbers' : integer ? 'whole numbers' : 'numbers';
      throw new UserError('invalid_tensor_data', `${label} data[${j}] is ${JSON.stringify(v) ?? String(v)}; a ${input.datatype} tensor holds ${kind}.`, 400, {
        field: `inputs[${index}].data[${j}]`,
      });
    }
  });
  return values as number[];
}

/** BYTES for text labels; numeric labels keep their type: INT64 when every class is a whole number. */
function labelDatatype(schema: Extract<ModelOutputSchema, { classes: string[] }>): string {
  if (schema.labelType === 'string') return 'BYTES';
  return schema.classes.every((c) => Number.isInteger(Number(c))) ? 'INT64' : 'FP64';
}

/** The tensors a version answers with: `label` + `probabilities` [n, k], or `value`; both with `prediction_id`. */
export function outputMetadata(schema: ModelOutputSchema): V2TensorMetadata[] {
  const id = { name: 'prediction_id', datatype: 'BYTES', shape: [-1] };
  if (schema.name === 'value') return [{ name: 'value', datatype: 'FP32', shape: [-1] }, id];
  return [{ name: 'label', datatype: labelDatatype(schema), shape: [-1] }, { name: 'probabilities', datatype: 'FP32', shape: [-1, schema.classes.length] }, id];
}

/** One FP32 tensor per feature, as /infer takes them (the `features` matrix form is also accepted). */
export function inputMetadata(features: string[]): V2TensorMetadata[] {
  return features.map((name) => ({ name, datatype: 'FP32', shape: [-1] }));
}

/** The predictor's answers as V2 output tensors (all of them, in `outputMetadata` order). */
export function predictionsToTensors(predictions: Prediction[], schema: ModelOutputSchema): V2Tensor[] {
  const n = predictions.length;
  const ids: V2Tensor = { name: 'prediction_id', datatype: 'BYTES', shape: [n], data: predictions.map((p) => p.id) };
  if (schema.name === 'value') return [{ name: 'value', datatype: 'FP32', shape: [n], data: predictions.map((p) => ('value' in p ? p.value : null)) }, ids];
  const { classes } = schema;
  const labels: unknown[] = [];
  const probabilities: number[] = [];
  for (const p of predictions) {
    if (!('label' in p)) continue;
    labels.push(p.label);
    for (const c of classes) probabilities.push(p.probabilities[c] ?? 0);
  }
  return [
    { name: 'label', datatype: labelDatatype(schema), shape: [n], data: labels },
    // Parameter values are scalars in the protocol, so the class names travel as a JSON array in a string.
    { name: 'probabilities', datatype: 'FP32', shape: [n, classes.length], parameters: { classes: JSON.stringify(classes) }, data: probabilities },
    ids,
  ];
}
