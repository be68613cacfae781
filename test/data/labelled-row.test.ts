import { describe, expect, it } from 'vitest';
import type { ColumnSchema } from '../../domain/dataset';
import { labelledRow, type RetrainTarget } from '../../data/labelled-row';

const schema: ColumnSchema[] = [
  { name: 'tenure', type: 'number', nullable: false },
  { name: 'region', type: 'string', nullable: false },
  { name: 'spend', type: 'number', nullable: false },
  { name: 'churned', type: 'string', nullable: false },
];
const textClasses: RetrainTarget = { name: 'churned', task: 'classification', classes: ['no', 'yes'] };

describe('labelledRow', () => {
  it('takes the features from the logged inputs, the target from the label, and leaves other columns missing', () => {
    expect(labelledRow(schema, textClasses, { tenure: 3, spend: 12.5 }, 'yes')).toEqual({ row: [3, null, 12.5, 'yes'] });
  });

  it('reads a column the inputs hold and marks unusable feature values missing', () => {
    expect(labelledRow(schema, textClasses, { tenure: 'abc', region: 'north', spend: null }, 'no')).toEqual({ row: [NaN, 'north', NaN, 'no'] });
    expect(labelledRow(schema, textClasses, { tenure: '4', spend: Infinity }, 'no')).toEqual({ row: [4, null, NaN, 'no'] });
  });

  it('skips a class the base model never had', () => {
    expect(labelledRow(schema, textClasses, { tenure: 3, spend: 1 }, 'maybe')).toEqual({ skipped: 'unknown_class' });
    expect(labelledRow(schema, textClasses, { tenure: 3, spend: 1 }, 1)).toEqual({ skipped: 'unknown_class' });
  });

  it('keeps numeric class labels as numbers, matched against the classes as training formats them', () => {
    const numericSchema: ColumnSchema[] = [
      { name: 'x', type: 'number', nullable: false },
      { name: 'grade', type: 'number', nullable: false },
    ];
    const grades: RetrainTarget = { name: 'grade', task: 'classification', classes: ['0', '1', '2'] };
    expect(labelledRow(numericSchema, grades, { x: 1 }, 2)).toEqual({ row: [1, 2] });
    expect(labelledRow(numericSchema, grades, { x: 1 }, 3)).toEqual({ skipped: 'unknown_class' });
    expect(labelledRow(numericSchema, grades, { x: 1 }, 'high')).toEqual({ skipped: 'unknown_class' });
  });

  it('takes any finite number for a regression target and skips anything else', () => {
    const numericSchema: ColumnSchema[] = [
      { name: 'x', type: 'number', nullable: false },
      { name: 'price', type: 'number', nullable: false },
    ];
    const price: RetrainTarget = { name: 'price', task: 'regression', classes: null };
    expect(labelledRow(numericSchema, price, { x: 1 }, 1234.5)).toEqual({ row: [1, 1234.5] });
    expect(labelledRow(numericSchema, price, { x: 1 }, 'cheap')).toEqual({ skipped: 'not_a_number' });
    expect(labelledRow(numericSchema, price, { x: 1 }, null)).toEqual({ skipped: 'not_a_number' });
  });

  it('never reads a feature from the inputs prototype', () => {
    const protoSchema: ColumnSchema[] = [
      { name: 'constructor', type: 'string', nullable: true },
      { name: 'churned', type: 'string', nullable: false },
    ];
    expect(labelledRow(protoSchema, textClasses, {}, 'no')).toEqual({ row: [null, 'no'] });
  });
});
