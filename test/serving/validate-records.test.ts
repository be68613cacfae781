import { describe, expect, it } from 'vitest';
import { UserError } from '../../platform/user-error';
import { recordsToMatrix } from '../../serving/validate-records';

describe('recordsToMatrix', () => {
  it('lays records out row-major in the model feature order, ignoring extra fields', () => {
    expect(Array.from(recordsToMatrix([{ b: 2, a: 1, id: 'x' }, { a: 3, b: 4 }], ['a', 'b']))).toEqual([1, 2, 3, 4]);
  });
  it.each([
    [[{ a: 1 }], 'missing_feature', 'records[0].b'],
    [[{ a: 1, b: 2 }, { a: Number.NaN, b: 1 }], 'invalid_feature_value', 'records[1].a'],
    [[{ a: Number.POSITIVE_INFINITY, b: 1 }], 'invalid_feature_value', 'records[0].a'],
    [[{ a: '1', b: 1 }], 'invalid_feature_value', 'records[0].a'],
    [[{ a: null, b: 1 }], 'invalid_feature_value', 'records[0].a'],
    [[{ a: 1, b: 'NaN' }], 'invalid_feature_value', 'records[0].b'],
    [[{ a: 'Infinity', b: 1 }], 'invalid_feature_value', 'records[0].a'],
    [[{ a: 1, b: 1 }, { a: 1, b: '-inf' }], 'invalid_feature_value', 'records[1].b'],
  ])('%j → %s at %s', (records, code, field) => {
    let error: unknown;
    try {
      recordsToMatrix(records, ['a', 'b']);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UserError);
    expect(error).toMatchObject({ code, details: { field } });
  });

  it('says why a spelled-out NaN or Infinity is refused', () => {
    expect(() => recordsToMatrix([{ a: 'NaN', b: 1 }], ['a', 'b'])).toThrow(/records\[0\]\.a is "NaN", which stands for a number JSON cannot carry; send a finite number/);
    expect(() => recordsToMatrix([{ a: Number.NaN, b: 1 }], ['a', 'b'])).toThrow(/records\[0\]\.a is NaN; send a finite number/);
  });
});
