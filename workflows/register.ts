import { patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { RegistryEvent } from '../domain/registry-events';
import type { RegisterInput, RegisterResult } from './contracts';
import { databaseActivityOptions } from './activity-options';
import { publishRegistryEvent, REGISTRY_EVENTS_PATCH } from './registry-events';

const { registerModelVersion } = proxyActivities<Activities>(databaseActivityOptions);

/** Registers a model version with its evaluation, lineage, model card and blessing decision, and tells the project's webhooks. */
export async function registerModel(input: RegisterInput): Promise<RegisterResult> {
  const result = await registerModelVersion({ ...input, pipelineWorkflowId: workflowInfo().parent?.workflowId ?? null });
  if (patched(REGISTRY_EVENTS_PATCH)) {
    const common: Omit<RegistryEvent, 'id' | 'type' | 'data'> = {
      projectId: input.projectId,
      occurredAt: new Date().toISOString(),
      model: { name: result.modelName, version: result.version, versionId: result.modelVersionId },
    };
    const decision = result.blessed ? 'model_version.blessed' : 'model_version.rejected';
    // Ids from the version's id: unique, and the same when this workflow is replayed.
    await publishRegistryEvent({ ...common, id: `model_version.created:${result.modelVersionId}`, type: 'model_version.created', data: {} });
    await publishRegistryEvent({ ...common, id: `${decision}:${result.modelVersionId}`, type: decision, data: { reasons: result.reasons } });
  }
  return result;
}
