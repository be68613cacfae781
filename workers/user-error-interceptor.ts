import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';
import { UserError } from '../platform/user-error';
import { FailureType, type UserFailureDetails } from '../workflows/contracts';

/** A user's mistake is not fixed by retrying: it becomes a typed, non-retryable failure carrying its code. */
export function toApplicationFailure(err: unknown): unknown {
  if (!(err instanceof UserError)) return err;
  const details: UserFailureDetails = { code: err.code, status: err.status, details: err.details };
  return ApplicationFailure.create({
    type: err.status === 404 ? FailureType.NotFound : FailureType.InvalidInput,
    message: err.message,
    nonRetryable: true,
    details: [details],
    // Expected, user-caused: logged at debug level rather than as a worker warning.
    category: ApplicationFailureCategory.BENIGN,
  });
}

export class UserErrorInterceptor implements ActivityInboundCallsInterceptor {
  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    try {
      return await next(input);
    } catch (err) {
      throw toApplicationFailure(err);
    }
  }
}
