import { describe, expect, it } from 'vitest';
import { checkEvaluationRequest } from '../../api/evaluation-options';
import type { ColumnSchema, ColumnStats } from '../../domain/dataset';
import { parseDuration } from '../../platform/duration';
import { UserError } from '../../platform/user-error';

const schema: ColumnSchema[] = [
  { name: 'x', type: 'number', nullable: false },
  { name: 'region', type: 'string', nullable: true },
  { name: 'label', type: 'string', nullable: false },
];
const classification = { task: 'classification' as const, reason: 'declared' };
const stats = (distinct: number, values: string[]): ColumnStats => ({ name: 'label', type: 'string', count: 10, missing: 0, distinct, distinctCapped: false, top: values.map((value) => ({ value, count: 1 })) });

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof UserError) return err.code;
    throw err;
  }
  return 'none';
}

describe('checkEvaluationRequest', () => {
  it('fills promotion defaults and parses the approval timeout', () => {
    const checked = checkEvaluationRequest(schema, classification, {
      slices: ['region', 'region'],
      promotion: { thresholds: [{ metric: 'f1', min: 0.5 }], requireApproval: true, approvalTimeout: '15m' },
    });
    expect(checked).toEqual({ slices: ['region'], promotion: { thresholds: [{ metric: 'f1', min: 0.5 }], requireApproval: true, approvalTimeoutMs: 900_000 } });
  });
  it('refuses fairness for regression, for more than two classes and for a class the target lacks', () => {
    expect(code(() => checkEvaluationRequest(schema, { task: 'regression', reason: 'declared' }, { fairness: { sensitive: 'region' } }))).toBe('fairness_needs_classification');
    expect(code(() => checkEvaluationRequest(schema, classification, { fairness: { sensitive: 'region' } }, stats(3, ['a', 'b', 'c'])))).toBe('fairness_needs_binary_classification');
    expect(code(() => checkEvaluationRequest(schema, classification, { fairness: { sensitive: 'region', favorable: 'c' } }, stats(2, ['a', 'b'])))).toBe('unknown_favorable_class');
    expect(code(() => checkEvaluationRequest(schema, classification, { fairness: { sensitive: 'x' } }))).toBe('sensitive_column_not_categorical');
  });
});

describe('parseDuration', () => {
  it('reads 30s, 15m, 24h and 7d, and refuses anything else with a 422', () => {
    expect(['30s', '15m', '24h', '7d'].map((d) => parseDuration(d, 'f'))).toEqual([30_000, 900_000, 86_400_000, 604_800_000]);
    for (const bad of ['0s', '1.5h', '24', 'h', '3w', '-1d']) expect(code(() => parseDuration(bad, 'f'))).toBe('invalid_duration');
  });
});
