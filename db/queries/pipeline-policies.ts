import { and, eq } from 'drizzle-orm';
import type { Db } from '../client';
import { models } from '../schema';
import { newId } from '../../platform/ids';
import type { ModelPolicy } from '../../domain/model-policy';
import { readModelPolicy, writeModelPolicyIn } from './model-policies';

export interface PipelinePolicyWrite {
  projectId: string;
  /** The pipeline's registered model: created here when it does not exist yet (registration finds it). */
  modelName: string;
  /** Only the policy fields the pipeline request set; an empty object changes nothing. */
  set: Partial<ModelPolicy>;
  /** The API key that started the pipeline. */
  actor: string;
  reason: string;
}

/**
 * Stores what a pipeline sets as its model's own policy: the fields it sets replace the stored ones, the fields it
 * leaves out keep theirs, so a pipeline that sets nothing never wipes a policy. One transaction under the model's row
 * lock; the same policy again (a retried request) makes no new version. Null when the pipeline set nothing.
 */
export async function storePipelinePolicy(db: Db, write: PipelinePolicyWrite): Promise<{ version: number; changed: boolean } | null> {
  if (Object.keys(write.set).length === 0) return null;
  return db.transaction(async (tx) => {
    await tx.insert(models).values({ id: newId('mdl'), projectId: write.projectId, name: write.modelName }).onConflictDoNothing({ target: [models.projectId, models.name] });
    const [model] = await tx
      .select({ id: models.id })
      .from(models)
      .where(and(eq(models.projectId, write.projectId), eq(models.name, write.modelName)))
      .for('update');
    if (!model) throw new Error(`model ${write.modelName} was not written`);
    const { policy: stored } = await readModelPolicy(tx, model.id);
    return writeModelPolicyIn(tx, { projectId: write.projectId, modelId: model.id, endpointId: null, policy: { ...stored, ...write.set }, actor: write.actor, reason: write.reason });
  });
}
