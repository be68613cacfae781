import { ApplicationFailure } from '@temporalio/common';
import { UserError, type UserErrorStatus } from '../platform/user-error';
import { FailureType, type UserFailureDetails } from '../workflows/contracts';

export { rootCauseMessage } from '../workflows/contracts';

const USER_FAILURE_TYPES = new Set<string>([FailureType.InvalidInput, FailureType.NotFound]);

/** Finds a user-caused failure anywhere in a workflow failure's cause chain and turns it back into a UserError. */
export function userErrorFromFailure(err: unknown): UserError | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    if (e instanceof ApplicationFailure && e.type && USER_FAILURE_TYPES.has(e.type)) {
      const detail = e.details?.[0] as UserFailureDetails | undefined;
      return new UserError(detail?.code ?? 'invalid_input', e.message, (detail?.status ?? 422) as UserErrorStatus, detail?.details ?? {});
    }
  }
  return undefined;
}
