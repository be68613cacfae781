import { UserError } from './user-error';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** "30s", "15m", "24h", "7d" → milliseconds; anything else is a 422 naming `field`. */
export function parseDuration(text: string, field: string): number {
  const match = /^(\d{1,6})([smhd])$/.exec(text.trim());
  const amount = match ? Number(match[1]) : NaN;
  if (!match || !(amount > 0)) {
    throw new UserError('invalid_duration', `${field} "${text.slice(0, 40)}" is not a duration: write a whole number and a unit, like 30s, 15m, 24h or 7d.`, 422, { field });
  }
  return amount * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}
