import { UserError } from '../platform/user-error';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d+)(ms|s|m|h|d)$/;
const MAX_MS = 365 * UNIT_MS.d;

/** "90s", "15m", "24h", "7d" → milliseconds; anything else is a 422 that shows the accepted form. */
export function parseDuration(value: string, field: string): number {
  const match = DURATION.exec(value.trim());
  const ms = match?.[1] && match[2] ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] : NaN;
  if (!Number.isFinite(ms) || ms < 1_000 || ms > MAX_MS) {
    throw new UserError('invalid_duration', `${field} must be a duration between 1s and 365d such as "90s", "15m", "24h" or "7d" (got "${value.slice(0, 40)}").`, 422, { field });
  }
  return ms;
}
