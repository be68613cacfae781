import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { RegisterInput, RegisterResult } from './contracts';
import { databaseActivityOptions } from './activity-options';

const { registerModelVersion } = proxyActivities<Activities>(databaseActivityOptions);

/** Registers a model version with its evaluation, lineage, model card and blessing decision. */
export async function registerModel(input: RegisterInput): Promise<RegisterResult> {
  return registerModelVersion({ ...input, pipelineWorkflowId: workflowInfo().parent?.workflowId ?? null });
}
