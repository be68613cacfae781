import { UserError } from './user-error';

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const MAX_MS = 365 * UNIT_MS.d;

/** "30s", "15m", "24h", "7d" → milliseconds, from 1s to 365d; anything else is a 422 naming `field`. */
export function parseDuration(text: string, field: string): number {
  const match = /^(\d{1,6})([smhd])$/.exec(text.trim());
  const ms = match ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] : NaN;
  if (!(ms >= UNIT_MS.s && ms <= MAX_MS)) {
    throw new UserError(
      'invalid_duration',
      `${field} "${text.slice(0, 40)}" is not a duration between 1s and 365d: write a whole number and a unit, like 30s, 15m, 24h or 7d.`,
      422,
      { field },
    );
  }
  return ms;
}
