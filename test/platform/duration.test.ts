import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../platform/duration';
import { UserError } from '../../platform/user-error';

describe('approval timeouts as durations', () => {
  it('reads seconds, minutes, hours and days', () => {
    expect(parseDuration('2s', 'f')).toBe(2_000);
    expect(parseDuration('15m', 'f')).toBe(900_000);
    expect(parseDuration('24h', 'f')).toBe(86_400_000);
    expect(parseDuration('7d', 'f')).toBe(604_800_000);
  });

  it('refuses other forms and out-of-range values with a 422 naming the field', () => {
    for (const bad of ['soon', '24', '1.5h', '-1s', '999ms', '400d', '']) {
      expect(() => parseDuration(bad, 'approvalTimeout')).toThrow(UserError);
    }
    try {
      parseDuration('soon', 'approvalTimeout');
    } catch (err) {
      expect(err).toMatchObject({ code: 'invalid_duration', status: 422, details: { field: 'approvalTimeout' } });
    }
  });
});
