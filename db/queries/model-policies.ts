import { and, desc, eq, inArray } from 'drizzle-orm';
import type { Db } from '../client';
import { auditLog, MODEL_POLICY_SCOPE, modelPolicies, models } from '../schema';
import { canonicalJson, EMPTY_MODEL_POLICY, type EffectiveModelPolicy, type ModelPolicy } from '../../domain/model-policy';

/** A transaction or the database itself: policy writes compose into a caller's transaction. */
type Tx = Parameters<Parameters<Db['transaction']>[0]>[0] | Db;

export type ModelPolicyRow = typeof modelPolicies.$inferSelect;

/**
 * The policy in force for a model, on an endpoint when one is named: the endpoint's own override first, then the
 * model's, else the empty policy (no thresholds beyond the floors, no approval, all at once) with source `none`.
 */
export async function readModelPolicy(db: Tx, modelId: string, endpointId: string | null = null): Promise<EffectiveModelPolicy> {
  const scopes = endpointId ? [endpointId, MODEL_POLICY_SCOPE] : [MODEL_POLICY_SCOPE];
  const rows = await db
    .select({ scope: modelPolicies.scope, version: modelPolicies.version, policy: modelPolicies.policy })
    .from(modelPolicies)
    .where(and(eq(modelPolicies.modelId, modelId), inArray(modelPolicies.scope, scopes)))
    .orderBy(desc(modelPolicies.version));
  const endpointRow = endpointId ? rows.find((r) => r.scope === endpointId) : undefined;
  const row = endpointRow ?? rows.find((r) => r.scope === MODEL_POLICY_SCOPE);
  if (!row) return { policy: EMPTY_MODEL_POLICY, source: 'none', version: null };
  return { policy: row.policy, source: endpointRow ? 'endpoint' : 'model', version: row.version };
}

export interface ModelPolicyWrite {
  projectId: string;
  modelId: string;
  /** Null: the model's own policy; an endpoint id: that endpoint's override. */
  endpointId: string | null;
  policy: ModelPolicy;
  /** An API key id, or `workflow:<id>`. */
  actor: string;
  reason: string;
}

/**
 * Stores a new version of the policy of a scope, with its audit entry, in one transaction that locks the model row
 * (two writers serialise). Writing the policy already in force stores nothing and answers that version: a retried
 * activity or a pipeline that sets the same policy again makes no new version.
 */
export async function writeModelPolicy(db: Db, write: ModelPolicyWrite): Promise<{ version: number; changed: boolean }> {
  return db.transaction((tx) => writeModelPolicyIn(tx, write));
}

export async function writeModelPolicyIn(tx: Tx, write: ModelPolicyWrite): Promise<{ version: number; changed: boolean }> {
  const scope = write.endpointId ?? MODEL_POLICY_SCOPE;
  await tx.select({ id: models.id }).from(models).where(eq(models.id, write.modelId)).for('update');
  const [latest] = await tx
    .select({ version: modelPolicies.version, policy: modelPolicies.policy })
    .from(modelPolicies)
    .where(and(eq(modelPolicies.modelId, write.modelId), eq(modelPolicies.scope, scope)))
    .orderBy(desc(modelPolicies.version))
    .limit(1);
  if (latest && samePolicy(latest.policy, write.policy)) return { version: latest.version, changed: false };
  const version = (latest?.version ?? 0) + 1;
  await tx.insert(modelPolicies).values({ projectId: write.projectId, modelId: write.modelId, scope, version, policy: write.policy, changedBy: write.actor, reason: write.reason });
  await tx.insert(auditLog).values({
    projectId: write.projectId,
    actor: write.actor,
    action: 'model_policy.changed',
    subjectType: 'model',
    subjectId: write.modelId,
    details: { scope, version, fromVersion: latest?.version ?? null, reason: write.reason, policy: write.policy as unknown as Record<string, unknown> },
  });
  return { version, changed: true };
}

/** Every stored version of a scope's policy, newest first. */
export async function modelPolicyHistory(db: Db, modelId: string, endpointId: string | null = null): Promise<ModelPolicyRow[]> {
  return db
    .select()
    .from(modelPolicies)
    .where(and(eq(modelPolicies.modelId, modelId), eq(modelPolicies.scope, endpointId ?? MODEL_POLICY_SCOPE)))
    .orderBy(desc(modelPolicies.version));
}

/** jsonb keeps no key order, so policies are compared with their keys sorted. */
function samePolicy(a: ModelPolicy, b: ModelPolicy): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
