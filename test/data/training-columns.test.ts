import { describe, expect, it } from 'vitest';
import { resolveTrainingColumns } from '../../data/training-columns';
import type { ColumnSchema } from '../../domain/dataset';
import { UserError } from '../../platform/user-error';

const schema: ColumnSchema[] = [
  { name: 'age', type: 'number', nullable: false },
  { name: 'income', type: 'number', nullable: true },
  { name: 'city', type: 'string', nullable: false },
  { name: 'label', type: 'number', nullable: false },
];

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof UserError ? err.code : 'not a UserError';
  }
  return undefined;
}

describe('resolveTrainingColumns', () => {
  it('defaults to every numeric column but the target', () => {
    expect(resolveTrainingColumns(schema, 'label', [])).toEqual(['age', 'income']);
  });
  it('keeps the order the user gave', () => {
    expect(resolveTrainingColumns(schema, 'label', ['income', 'age'])).toEqual(['income', 'age']);
  });
  it.each([
    ['missing', [], 'unknown_target_column'],
    ['label', ['age', 'nope'], 'unknown_feature'],
    ['label', ['city'], 'non_numeric_feature'],
    ['label', ['label'], 'target_in_features'],
    ['label', ['age', 'age'], 'duplicate_feature'],
  ] as const)('target %s, features %j → %s', (target, features, code) => {
    expect(codeOf(() => resolveTrainingColumns(schema, target, [...features]))).toBe(code);
  });
});
