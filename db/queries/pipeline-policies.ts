import { and, eq } from 'drizzle-orm';
import type { Db } from '../client';
import { endpoints, models } from '../schema';
import { newId } from '../../platform/ids';
import { UserError } from '../../platform/user-error';
import { differingPolicyFields, EMPTY_MODEL_POLICY, type EffectiveModelPolicy, type ModelPolicy } from '../../domain/model-policy';
import { readModelPolicy, writeModelPolicyIn } from './model-policies';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export interface PipelinePolicyWrite {
  projectId: string;
  /** The pipeline's registered model: created here when it does not exist yet (registration finds it). */
  modelName: string;
  /** The pipeline's endpoint: its override, when it has one, is the policy in force there. */
  endpointName: string;
  /** Only the policy fields the pipeline request set; an empty object changes nothing. */
  set: Partial<ModelPolicy>;
  /** An admin's pipeline may change a stored policy; any other key's may only store one where none is stored yet. */
  mayChange: boolean;
  /** The API key that started the pipeline. */
  actor: string;
  reason: string;
}

export interface PipelinePolicy {
  /** The policy in force for the model on the endpoint once the pipeline's own change is stored: what it follows. */
  effective: EffectiveModelPolicy;
  /** What the pipeline stored as its model's own policy (changed: a new version); null when it stored nothing. */
  stored: { version: number; changed: boolean } | null;
}

/**
 * Stores what a pipeline sets as its model's own policy and answers the policy in force that it follows: the fields it
 * sets replace the stored ones, the fields it leaves out keep theirs, so a pipeline that sets nothing never wipes a
 * policy. One transaction under the model's row lock; the same policy again (a retried request) makes no new version.
 * A key that may not change policies gets 403 `policy_change_forbidden` when what it sets differs from the policy in force.
 */
export async function applyPipelinePolicy(db: Db, write: PipelinePolicyWrite): Promise<PipelinePolicy> {
  return db.transaction(async (tx) => {
    const endpointId = await endpointIdOf(tx, write.projectId, write.endpointName);
    if (Object.keys(write.set).length === 0) {
      const [model] = await tx.select({ id: models.id }).from(models).where(and(eq(models.projectId, write.projectId), eq(models.name, write.modelName)));
      const effective = model ? await readModelPolicy(tx, model.id, endpointId) : { policy: EMPTY_MODEL_POLICY, source: 'none' as const, version: null };
      return { effective, stored: null };
    }
    await tx.insert(models).values({ id: newId('mdl'), projectId: write.projectId, name: write.modelName }).onConflictDoNothing({ target: [models.projectId, models.name] });
    const [model] = await tx
      .select({ id: models.id })
      .from(models)
      .where(and(eq(models.projectId, write.projectId), eq(models.name, write.modelName)))
      .for('update');
    if (!model) throw new Error(`model ${write.modelName} was not written`);
    const inForce = await readModelPolicy(tx, model.id, endpointId);
    if (!write.mayChange && inForce.source !== 'none') {
      const differing = differingPolicyFields(write.set, inForce.policy);
      if (differing.length > 0) throw policyChangeForbidden(write, inForce, differing);
      return { effective: inForce, stored: null };
    }
    const { policy: own } = await readModelPolicy(tx, model.id);
    const stored = await writeModelPolicyIn(tx, { projectId: write.projectId, modelId: model.id, endpointId: null, policy: { ...own, ...write.set }, actor: write.actor, reason: write.reason });
    return { effective: await readModelPolicy(tx, model.id, endpointId), stored };
  });
}

async function endpointIdOf(tx: Tx, projectId: string, name: string): Promise<string | null> {
  const [endpoint] = await tx.select({ id: endpoints.id }).from(endpoints).where(and(eq(endpoints.projectId, projectId), eq(endpoints.name, name)));
  return endpoint?.id ?? null;
}

function policyChangeForbidden(write: PipelinePolicyWrite, inForce: EffectiveModelPolicy, differing: string[]): UserError {
  const where = inForce.source === 'endpoint' ? `endpoint ${write.endpointName}'s override of model "${write.modelName}"'s policy` : `model "${write.modelName}"'s policy`;
  const put = `PUT /v1/models/${write.modelName}/policy${inForce.source === 'endpoint' ? `?endpoint=${write.endpointName}` : ''}`;
  return new UserError(
    'policy_change_forbidden',
    `This pipeline's ${differing.join(', ')} differ${differing.length === 1 ? 's' : ''} from ${where}, version ${inForce.version} in force, and only an admin may change a stored policy; leave ${differing.join(', ')} out to follow version ${inForce.version}, or have an admin change it with ${put}.`,
    403,
    { field: differing[0] ?? 'promotion', fields: differing.join(','), model: write.modelName, source: inForce.source, version: inForce.version ?? 0 },
  );
}
