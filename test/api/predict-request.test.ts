import { describe, expect, it } from 'vitest';
import { MAX_RECORDS_PER_REQUEST, predictRecords } from '../../api/predict-request';
import { UserError } from '../../platform/user-error';

function failure(body: unknown): { status: number; code: string; field: unknown; message: string } | 'none' {
  try {
    predictRecords(body);
  } catch (err) {
    if (err instanceof UserError) return { status: err.status, code: err.code, field: err.details.field, message: err.message };
    throw err;
  }
  return 'none';
}

describe('predictRecords', () => {
  it('returns the records as sent, extra fields kept (the model ignores them)', () => {
    const records = [{ tenure: 3, spend: 10, customer: 'c-1' }, { tenure: 'NaN' }];
    expect(predictRecords({ records })).toBe(records);
  });

  it.each([
    ['a body that is not an object', [[{ a: 1 }]], '(body)'],
    ['null', null, '(body)'],
    ['a key besides records', { records: [{ a: 1 }], threshold: 0.5 }, '(body)'],
    ['no records', {}, 'records'],
    ['records that are not an array', { records: 'rows' }, 'records'],
    ['no record at all', { records: [] }, 'records'],
    ['too many records', { records: Array.from({ length: MAX_RECORDS_PER_REQUEST + 1 }, () => ({ a: 1 })) }, 'records'],
    ['a record that is a number', { records: [{ a: 1 }, 3] }, 'records[1]'],
    ['a record that is an array', { records: [[1, 2]] }, 'records[0]'],
    ['a record that is null', { records: [{ a: 1 }, { a: 2 }, null] }, 'records[2]'],
  ])('%s is a 422 invalid_request naming %s', (_name, body, field) => {
    expect(failure(body)).toMatchObject({ status: 422, code: 'invalid_request', field });
  });

  it('says what to send', () => {
    expect(failure({})).toMatchObject({ message: 'records: is required: send {"records": [{"feature": value, …}]}.' });
    expect(failure({ records: [] })).toMatchObject({ message: 'records: send at least one record.' });
    expect(failure({ records: [{ a: 1 }], limit: 2 })).toMatchObject({ message: '(body): Unrecognized key: "limit" (a predict body has only "records").' });
  });
});
