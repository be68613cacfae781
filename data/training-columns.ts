import { UserError } from '../platform/user-error';
import type { ColumnSchema } from '../domain/dataset';

/**
 * Checks a target and feature list against a dataset version's schema and fills in the default
 * features (every numeric column but the target). Used by the API before starting a pipeline and again
 * by the training workflow, so a bad request never gets as far as training.
 */
export function resolveTrainingColumns(schema: ColumnSchema[], target: string, features: string[]): string[] {
  const byName = new Map(schema.map((c) => [c.name, c]));
  const columnList = schema.map((c) => c.name).join(', ');
  if (!byName.has(target)) {
    throw new UserError('unknown_target_column', `The target column "${target}" is not in the dataset; its columns are: ${columnList}.`, 422, {
      field: 'target',
      column: target,
    });
  }
  const chosen = features.length > 0 ? features : schema.filter((c) => c.type === 'number' && c.name !== target).map((c) => c.name);
  if (chosen.length === 0) {
    throw new UserError('no_numeric_features', `The dataset has no numeric column besides the target "${target}" to train on.`, 422, { field: 'features' });
  }
  const seen = new Set<string>();
  for (const name of chosen) {
    const column = byName.get(name);
    if (!column) {
      throw new UserError('unknown_feature', `The feature "${name}" is not in the dataset; its columns are: ${columnList}.`, 422, { field: 'features', column: name });
    }
    if (name === target) {
      throw new UserError('target_in_features', `The target "${target}" cannot also be a feature; remove it from "features".`, 422, { field: 'features', column: name });
    }
    if (column.type !== 'number') {
      throw new UserError('non_numeric_feature', `The feature "${name}" holds text; only numeric features are supported so far, so remove it from "features".`, 422, {
        field: 'features',
        column: name,
      });
    }
    if (seen.has(name)) {
      throw new UserError('duplicate_feature', `The feature "${name}" is listed twice in "features".`, 422, { field: 'features', column: name });
    }
    seen.add(name);
  }
  return chosen;
}
