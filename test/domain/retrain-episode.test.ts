import { describe, expect, it } from 'vitest';
import { driftEpisode, manualEpisode, nextAttemptAt, retrainWorkflowId, scheduleEpisode, type EpisodeReport } from '../../domain/retrain-episode';

function report(id: string, windowTo: string, drifted: boolean, extra: Partial<EpisodeReport> = {}): EpisodeReport {
  return { id, modelVersionId: 'mv1', drifted, enoughRows: true, windowTo: `2026-01-01T${windowTo}:00.000Z`, createdAt: `2026-01-01T${windowTo}:30.000Z`, ...extra };
}

describe('drift episodes', () => {
  it('the first drift of a version, with no calm report before it, is the episode "first"', () => {
    const drifted = report('d1', '10:00', true);
    expect(driftEpisode(drifted, [drifted])).toBe('mv1:first');
    expect(driftEpisode(drifted, [])).toBe('mv1:first');
  });

  it('monitors seconds apart over overlapping windows share the episode of the last calm report', () => {
    const calm = report('c1', '09:00', false);
    const a = report('d1', '10:00', true);
    const b = report('d2', '10:00', true, { createdAt: '2026-01-01T10:00:31.000Z' });
    const c = report('d3', '10:01', true);
    const all = [calm, a, b, c];
    expect(new Set([a, b, c].map((r) => driftEpisode(r, all)))).toEqual(new Set(['mv1:c1']));
  });

  it('a calm window ends the episode: drift after it is a new one', () => {
    const reports = [report('d1', '10:00', true), report('c1', '11:00', false), report('d2', '12:00', true)];
    expect(driftEpisode(reports[0]!, reports)).toBe('mv1:first');
    expect(driftEpisode(reports[2]!, reports)).toBe('mv1:c1');
  });

  it('a calm report stored later for a later window does not move an earlier drift to another episode', () => {
    const drifted = report('d1', '10:00', true);
    expect(driftEpisode(drifted, [drifted, report('c9', '11:00', false)])).toBe('mv1:first');
  });

  it('a window with too few rows is no evidence of calm, and other versions\' reports do not count', () => {
    const reports = [report('c1', '08:00', false), report('quiet', '09:00', false, { enoughRows: false }), report('other', '09:30', false, { modelVersionId: 'mv2' }), report('d1', '10:00', true)];
    expect(driftEpisode(reports[3]!, reports)).toBe('mv1:c1');
  });

  it('reports with the same window end are ordered by when they were stored, then by id', () => {
    const calm = report('c1', '10:00', false, { createdAt: '2026-01-01T10:00:10.000Z' });
    const drifted = report('d1', '10:00', true, { createdAt: '2026-01-01T10:00:20.000Z' });
    const twin = report('c0', '10:00', false, { createdAt: '2026-01-01T10:00:20.000Z' });
    expect(driftEpisode(drifted, [calm, drifted])).toBe('mv1:c1');
    expect(driftEpisode(drifted, [calm, drifted, twin])).toBe('mv1:c0');
  });

  it('schedules and manual requests are episodes of their own; the workflow id names model and episode', () => {
    expect(scheduleEpisode('nightly', '2026-01-05T03:00:00.000Z')).toBe('schedule:nightly:2026-01-05T03:00:00.000Z');
    expect(manualEpisode('r1')).toBe('manual:r1');
    expect(retrainWorkflowId('mdl_1', 'mv1:first')).toBe('retrain-mdl_1-mv1:first');
  });

  it('each attempt of an episode has its own workflow id; the backoff doubles and ends at maxAttempts', () => {
    expect(retrainWorkflowId('mdl_1', 'mv1:first', 1)).toBe('retrain-mdl_1-mv1:first');
    expect(retrainWorkflowId('mdl_1', 'mv1:first', 2)).toBe('retrain-mdl_1-mv1:first:attempt-2');
    const failedAt = new Date('2026-01-01T10:00:00.000Z');
    const retry = { maxAttempts: 3, backoffSeconds: 600 };
    expect(nextAttemptAt(failedAt, 1, retry)?.toISOString()).toBe('2026-01-01T10:10:00.000Z');
    expect(nextAttemptAt(failedAt, 2, retry)?.toISOString()).toBe('2026-01-01T10:20:00.000Z');
    expect(nextAttemptAt(failedAt, 3, retry)).toBeNull();
  });
});
