import { UserError } from '../platform/user-error';

/** Strings that stand for numbers JSON cannot carry; refused like the numbers themselves. */
const NON_FINITE_SPELLINGS = /^[+-]?(nan|inf|infinity)$/i;

/**
 * Turns prediction records into a row-major float32 matrix in the model's feature order; every feature
 * must be present and a finite number. Extra fields (ids, notes) are ignored.
 */
export function recordsToMatrix(records: Record<string, unknown>[], features: string[]): Float32Array {
  const width = features.length;
  const x = new Float32Array(records.length * width);
  for (let i = 0; i < records.length; i++) {
    const record = records[i] as Record<string, unknown>;
    for (let j = 0; j < width; j++) {
      const feature = features[j] as string;
      const value = record[feature];
      if (typeof value === 'number' && Number.isFinite(value)) {
        x[i * width + j] = value;
        continue;
      }
      throw invalidFeature(record, i, feature, features, value);
    }
  }
  return x;
}

function invalidFeature(record: Record<string, unknown>, i: number, feature: string, features: string[], value: unknown): UserError {
  const field = `records[${i}].${feature}`;
  if (!Object.hasOwn(record, feature)) {
    return new UserError('missing_feature', `records[${i}] has no "${feature}"; this model needs: ${features.join(', ')}.`, 422, { field, record: i });
  }
  const got = JSON.stringify(value) ?? String(value);
  const why =
    typeof value === 'number'
      ? `${field} is ${String(value)}; send a finite number`
      : typeof value === 'string' && NON_FINITE_SPELLINGS.test(value.trim())
        ? `${field} is ${got}, which stands for a number JSON cannot carry; send a finite number`
        : `${field} must be a finite number (got ${got.slice(0, 80)})`;
  return new UserError('invalid_feature_value', `${why}.`, 422, { field, record: i });
}
