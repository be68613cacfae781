import { z } from 'zod';
import { UserError } from '../platform/user-error';
import type { AuthContext } from './env';

/** `"override": {"reason": "…"}`: serve or promote a version the guard refuses (admin only, audited, approval still needed). */
export const overrideRequest = z.object({ reason: z.string().trim().min(1).max(1000) }).strict();

/** The override as it is recorded (key, person, reason), or null; 403 unless the key is an admin's. */
export function checkedOverride(auth: AuthContext, override: z.infer<typeof overrideRequest> | undefined): { by: string; owner: string; reason: string } | null {
  if (!override) return null;
  if (auth.role !== 'admin') {
    throw new UserError('override_forbidden', `Only an admin key may override the serving guard; your API key has the ${auth.role} role. Drop "override" or ask an admin.`, 403, { field: 'override' });
  }
  return { by: auth.keyId, owner: auth.owner, reason: override.reason };
}
