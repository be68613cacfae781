import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { DeployInput, DeployResult } from './contracts';
import { databaseActivityOptions } from './activity-options';

const { deployModelVersion } = proxyActivities<Activities>(databaseActivityOptions);

/** Makes a model version the endpoint's stable version and moves the `production` alias. */
export async function deployModel(input: DeployInput): Promise<DeployResult> {
  return deployModelVersion({ ...input, idempotencyKey: workflowInfo().workflowId });
}
