import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { FailureType, type InfraValidateInput, type InfraValidationResult } from './contracts';
import { infraValidationActivityOptions } from './activity-options';

/**
 * Loads the candidate with the serving runtime in a separate process and queries it within a latency
 * budget. Fails with an `InfraValidationFailed` ApplicationFailure (non-retryable) when the model would break serving.
 */
export async function infraValidateModel(input: InfraValidateInput): Promise<InfraValidationResult> {
  const { validateInfrastructure } = proxyActivities<Activities>(infraValidationActivityOptions(input.timeouts));
  try {
    return await validateInfrastructure(input);
  } catch (err) {
    // The type at the top of the chain, so a caller reads "InfraValidationFailed", not "activity failed".
    const cause = err instanceof ActivityFailure ? err.cause : undefined;
    if (cause instanceof ApplicationFailure && cause.type === FailureType.InfraValidationFailed) {
      throw ApplicationFailure.create({ type: FailureType.InfraValidationFailed, message: cause.message, nonRetryable: true, details: cause.details ?? [], cause });
    }
    throw err;
  }
}
