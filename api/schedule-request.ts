import { ScheduleOverlapPolicy, type ScheduleSpec } from '@temporalio/client';
import { z } from 'zod';
import { parseDuration } from '../platform/duration';
import { UserError } from '../platform/user-error';
import { RESOURCE_NAME } from './json-body';

/** The overlap policies a request may name, in the API's spelling, and Temporal's policy for each. */
export const OVERLAP_POLICIES = {
  skip: ScheduleOverlapPolicy.SKIP,
  buffer_one: ScheduleOverlapPolicy.BUFFER_ONE,
  buffer_all: ScheduleOverlapPolicy.BUFFER_ALL,
  cancel_other: ScheduleOverlapPolicy.CANCEL_OTHER,
  terminate_other: ScheduleOverlapPolicy.TERMINATE_OTHER,
  allow_all: ScheduleOverlapPolicy.ALLOW_ALL,
} as const;
export type OverlapName = keyof typeof OVERLAP_POLICIES;
const overlapNames = Object.keys(OVERLAP_POLICIES) as [OverlapName, ...OverlapName[]];

export const DEFAULT_CATCHUP_WINDOW = '1h';
/** Temporal does not honour a shorter catch-up window. */
const MIN_CATCHUP_MS = 10_000;
/** A backfill that would start more runs than this is refused: it is almost always a wrong range. */
export const MAX_BACKFILL_RUNS = 1_000;
const MAX_BACKFILL_RANGE_MS = 366 * 86_400_000;

const name = z.string().regex(RESOURCE_NAME, "use 1-63 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit");
const overlap = z.enum(overlapNames, { message: `use one of ${overlapNames.join(', ')}` });
const instant = z.string().datetime({ offset: true, message: 'use an ISO 8601 date-time such as 2026-01-31T12:00:00Z' });
const note = z.string().max(500);

export const createScheduleRequest = z
  .object({
    name,
    action: z
      .object({
        type: z.enum(['monitor', 'retrain'], { message: 'use monitor or retrain' }),
        endpoint: name,
        /** The window each monitor run covers, ending at its scheduled time (default: the interval). */
        window: z.string().optional(),
      })
      .strict(),
    spec: z
      .object({ interval: z.string().optional(), cron: z.string().min(1).max(200).optional() })
      .strict()
      .refine((s) => (s.interval === undefined) !== (s.cron === undefined), { message: 'give exactly one of interval (like "15m") or cron (like "0 3 * * 1")' }),
    overlap: overlap.default('skip'),
    catchupWindow: z.string().default(DEFAULT_CATCHUP_WINDOW),
    paused: z.boolean().default(false),
    note: note.optional(),
  })
  .strict();

export const noteRequest = z.object({ note: note.optional() }).strict();
export const triggerRequest = z.object({ overlap: overlap.optional() }).strict();
export const backfillRequest = z.object({ from: instant, to: instant, overlap: overlap.default('buffer_all') }).strict();

export type ScheduleSpecRequest = { interval: string } | { cron: string };

/** What a schedule is, as the API shows it; kept in the schedule's memo (Temporal turns a cron into calendars). */
export interface ScheduleDefinition {
  projectId: string;
  name: string;
  action: { type: 'monitor' | 'retrain'; endpoint: string; window?: string };
  spec: ScheduleSpecRequest;
  overlap: OverlapName;
  catchupWindow: string;
}

export interface CheckedSchedule {
  definition: ScheduleDefinition;
  /** Temporal's form of the spec. */
  spec: ScheduleSpec;
  intervalMs?: number;
  catchupWindowMs: number;
  /** Monitor runs: the window each covers. */
  windowMs?: number;
}

// Temporal's own parser has the last word (its error becomes a 422); this only catches what is plainly not a cron.
const CRON_SHORTHAND = /^@(yearly|annually|monthly|weekly|daily|hourly|every \S+)$/;
const CRON_FIELD = /^[0-9A-Za-z*?/,#-]+$/;

/** Durations, the cron's shape and the monitor window of a parsed body; every error names its field. */
export function checkScheduleRequest(projectId: string, body: z.infer<typeof createScheduleRequest>): CheckedSchedule {
  const { interval, cron } = body.spec;
  const spec: ScheduleSpecRequest = interval !== undefined ? { interval } : { cron: cron ?? '' };
  const intervalMs = interval !== undefined ? parseDuration(interval, 'spec.interval') : undefined;
  if (cron !== undefined) checkCronShape(cron);
  const catchupWindowMs = parseDuration(body.catchupWindow, 'catchupWindow');
  if (catchupWindowMs < MIN_CATCHUP_MS) {
    throw new UserError('invalid_duration', `catchupWindow must be at least 10s (got "${body.catchupWindow.slice(0, 40)}").`, 422, { field: 'catchupWindow' });
  }
  let windowMs: number | undefined;
  if (body.action.type === 'monitor') {
    windowMs = body.action.window !== undefined ? parseDuration(body.action.window, 'action.window') : intervalMs;
    if (windowMs === undefined) {
      throw new UserError('window_required', 'A monitor on a cron schedule needs action.window, the span each run covers (like "24h"): the runs are not evenly spaced.', 422, {
        field: 'action.window',
      });
    }
  } else if (body.action.window !== undefined) {
    throw new UserError('invalid_request', 'action.window is for monitor schedules only: a retrain takes its window from the drift or the endpoint, leave it out.', 422, {
      field: 'action.window',
    });
  }
  const action = { type: body.action.type, endpoint: body.action.endpoint, ...(body.action.window !== undefined ? { window: body.action.window } : {}) };
  return {
    definition: { projectId, name: body.name, action, spec, overlap: body.overlap, catchupWindow: body.catchupWindow },
    spec: intervalMs !== undefined ? { intervals: [{ every: intervalMs }] } : { cronExpressions: [cron ?? ''] },
    intervalMs,
    catchupWindowMs,
    windowMs,
  };
}

function checkCronShape(cron: string): void {
  const text = cron.trim();
  const fields = text.split(/\s+/);
  if (CRON_SHORTHAND.test(text) || (fields.length >= 5 && fields.length <= 7 && fields.every((f) => CRON_FIELD.test(f)))) return;
  throw invalidCron(cron, 'write five fields: minute hour day-of-month month day-of-week, like "0 3 * * 1"');
}

export function invalidCron(cron: string, why: string): UserError {
  return new UserError('invalid_cron', `spec.cron "${cron.slice(0, 80)}" is not a valid cron expression: ${why}.`, 422, { field: 'spec.cron' });
}

/** The backfill range: it must end after it starts and not ask for an unbounded number of runs. */
export function checkBackfillRange(body: z.infer<typeof backfillRequest>, definition: Pick<ScheduleDefinition, 'spec'>): { from: Date; to: Date } {
  const from = new Date(body.from);
  const to = new Date(body.to);
  if (from.getTime() >= to.getTime()) {
    throw new UserError('invalid_window', `The backfill must end after it starts: from ${body.from} is not before to ${body.to}.`, 422, { field: 'to' });
  }
  const span = to.getTime() - from.getTime();
  if ('interval' in definition.spec) {
    const runs = Math.floor(span / parseDuration(definition.spec.interval, 'spec.interval'));
    if (runs > MAX_BACKFILL_RUNS) {
      throw new UserError('backfill_too_large', `The range holds ${runs} runs of every ${definition.spec.interval}; backfill at most ${MAX_BACKFILL_RUNS} at a time.`, 422, { field: 'from' });
    }
  } else if (span > MAX_BACKFILL_RANGE_MS) {
    throw new UserError('backfill_too_large', 'Backfill at most 366 days of a cron schedule at a time.', 422, { field: 'from' });
  }
  return { from, to };
}
