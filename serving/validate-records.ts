import { UserError } from '../platform/user-error';

/**
 * Turns prediction records into a row-major float32 matrix in the model's feature order; every feature
 * must be present and a finite number. Extra fields (ids, notes) are ignored.
 */
export function recordsToMatrix(records: Record<string, unknown>[], features: string[]): Float32Array {
  const width = features.length;
  const x = new Float32Array(records.length * width);
  records.forEach((record, i) => {
    features.forEach((feature, j) => {
      if (!Object.hasOwn(record, feature)) {
        throw new UserError('missing_feature', `records[${i}] has no "${feature}"; this model needs: ${features.join(', ')}.`, 422, {
          field: `records[${i}].${feature}`,
          record: i,
        });
      }
      const value = record[feature];
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new UserError(
          'invalid_feature_value',
          `records[${i}].${feature} must be a finite number (got ${JSON.stringify(value) ?? String(value)}).`,
          422,
          { field: `records[${i}].${feature}`, record: i },
        );
      }
      x[i * width + j] = value;
    });
  });
  return x;
}
