import { ApplicationFailure } from '@temporalio/common';
import type { Db } from '../../db/client';
import { checkVersionMayServe, hasOverride } from '../../db/queries/serving-guard';
import { UserError } from '../../platform/user-error';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0] | Db;

/**
 * The serving guard again where traffic is applied, so a deploy that did not come through the API (a workflow started
 * by hand, a pipeline) cannot serve an unexamined version either: fails non-retryably with the refusal's code as type.
 */
export async function guardServing(db: Tx, input: { projectId: string; modelVersionId: string; endpointName: string }): Promise<void> {
  try {
    const override = await hasOverride(db, input.projectId, input.modelVersionId, input.endpointName);
    await checkVersionMayServe(db, { projectId: input.projectId, modelVersionId: input.modelVersionId, target: { endpoint: input.endpointName }, override });
  } catch (err) {
    if (!(err instanceof UserError) || err.status !== 409) throw err;
    throw ApplicationFailure.create({ type: err.code, message: err.message, nonRetryable: true });
  }
}
