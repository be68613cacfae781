import { describe, expect, it } from 'vitest';
import { backfillRequest, checkBackfillRange, checkScheduleRequest, createScheduleRequest } from '../../api/schedule-request';
import { UserError } from '../../platform/user-error';

function failure(fn: () => unknown): { code: string; field: unknown } | 'none' {
  try {
    fn();
  } catch (err) {
    if (err instanceof UserError) return { code: err.code, field: err.details.field };
    throw err;
  }
  return 'none';
}

const check = (body: unknown) => checkScheduleRequest('prj_1', createScheduleRequest.parse(body));
const monitor = { name: 'churn-hourly', action: { type: 'monitor', endpoint: 'churn' } };

describe('createScheduleRequest', () => {
  it('fills overlap skip and a 1h catch-up window, and a monitor window equal to the interval', () => {
    expect(check({ ...monitor, spec: { interval: '15m' } })).toEqual({
      definition: { projectId: 'prj_1', name: 'churn-hourly', action: { type: 'monitor', endpoint: 'churn' }, spec: { interval: '15m' }, overlap: 'skip', catchupWindow: '1h' },
      spec: { intervals: [{ every: 900_000 }] },
      intervalMs: 900_000,
      catchupWindowMs: 3_600_000,
      windowMs: 900_000,
    });
  });
  it('keeps a retrain cron as written, with no window', () => {
    const checked = check({ name: 'weekly', action: { type: 'retrain', endpoint: 'churn' }, spec: { cron: '0 3 * * 1' }, overlap: 'buffer_one', catchupWindow: '2h' });
    expect(checked).toMatchObject({ definition: { spec: { cron: '0 3 * * 1' }, overlap: 'buffer_one' }, spec: { cronExpressions: ['0 3 * * 1'] }, catchupWindowMs: 7_200_000 });
    expect(checked.intervalMs).toBeUndefined();
    expect(checked.windowMs).toBeUndefined();
  });
  it('refuses bad names, both or neither of interval and cron, unknown overlap and stray fields, naming the field', () => {
    const fieldOf = (body: unknown) => {
      const parsed = createScheduleRequest.safeParse(body);
      return parsed.success ? 'none' : parsed.error.issues[0]?.path.join('.');
    };
    expect(fieldOf({ ...monitor, name: 'Churn Hourly', spec: { interval: '1h' } })).toBe('name');
    expect(fieldOf({ ...monitor, name: 'x'.repeat(64), spec: { interval: '1h' } })).toBe('name');
    expect(fieldOf({ ...monitor, action: { type: 'predict', endpoint: 'churn' }, spec: { interval: '1h' } })).toBe('action.type');
    expect(fieldOf({ ...monitor, spec: { interval: '1h', cron: '0 3 * * 1' } })).toBe('spec');
    expect(fieldOf({ ...monitor, spec: {} })).toBe('spec');
    expect(fieldOf({ ...monitor, spec: { interval: '1h' }, overlap: 'sometimes' })).toBe('overlap');
    expect(fieldOf({ ...monitor, spec: { interval: '1h' }, timezone: 'UTC' })).toBe('');
  });
  it('refuses bad durations, a plainly wrong cron, a cron monitor without a window and a retrain with one', () => {
    expect(failure(() => check({ ...monitor, spec: { interval: '15 minutes' } }))).toEqual({ code: 'invalid_duration', field: 'spec.interval' });
    expect(failure(() => check({ ...monitor, spec: { interval: '1h' }, catchupWindow: '5s' }))).toEqual({ code: 'invalid_duration', field: 'catchupWindow' });
    expect(failure(() => check({ ...monitor, spec: { interval: '1h' }, catchupWindow: 'soon' }))).toEqual({ code: 'invalid_duration', field: 'catchupWindow' });
    expect(failure(() => check({ ...monitor, spec: { cron: 'every monday' } }))).toEqual({ code: 'invalid_cron', field: 'spec.cron' });
    expect(failure(() => check({ ...monitor, spec: { cron: '0 3 * * 1' } }))).toEqual({ code: 'window_required', field: 'action.window' });
    expect(check({ ...monitor, action: { ...monitor.action, window: '24h' }, spec: { cron: '@daily' } }).windowMs).toBe(86_400_000);
    expect(failure(() => check({ name: 'r', action: { type: 'retrain', endpoint: 'churn', window: '1h' }, spec: { interval: '1h' } }))).toEqual({ code: 'invalid_request', field: 'action.window' });
  });
});

describe('checkBackfillRange', () => {
  const range = (from: string, to: string) => backfillRequest.parse({ from, to });
  it('accepts a past range and defaults to buffering every run', () => {
    expect(backfillRequest.parse({ from: '2026-01-01T00:00:00Z', to: '2026-01-01T01:00:00Z' }).overlap).toBe('buffer_all');
    expect(checkBackfillRange(range('2026-01-01T00:00:00Z', '2026-01-01T01:00:00Z'), { spec: { interval: '15m' } })).toEqual({
      from: new Date('2026-01-01T00:00:00Z'),
      to: new Date('2026-01-01T01:00:00Z'),
    });
  });
  it('refuses an empty or reversed range and one of more than 1000 runs', () => {
    expect(failure(() => checkBackfillRange(range('2026-01-01T01:00:00Z', '2026-01-01T01:00:00Z'), { spec: { interval: '15m' } }))).toEqual({ code: 'invalid_window', field: 'to' });
    expect(failure(() => checkBackfillRange(range('2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z'), { spec: { interval: '1m' } }))).toEqual({ code: 'backfill_too_large', field: 'from' });
    expect(failure(() => checkBackfillRange(range('2024-01-01T00:00:00Z', '2026-01-01T00:00:00Z'), { spec: { cron: '0 3 * * 1' } }))).toEqual({ code: 'backfill_too_large', field: 'from' });
  });
});
