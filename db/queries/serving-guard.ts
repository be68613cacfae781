import { and, asc, desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { auditLog, endpoints, models, modelVersions } from '../schema';
import { servingRefusal } from '../../domain/serving-guard';
import { UserError } from '../../platform/user-error';
import { readModelPolicy } from './model-policies';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0] | Db;

/** The audit action of an admin's override of the serving guard. */
export const OVERRIDE_ACTION = 'override.used';

/** Where a version is about to serve: an endpoint (by name) or the `production` alias. */
export type ServingTarget = { endpoint: string } | { alias: 'production' };

export interface ServingCheck {
  projectId: string;
  modelVersionId: string;
  target: ServingTarget;
  /** An admin's override of this request (waives blessing, infra-validation and an earlier rejection, never approval). */
  override: boolean;
  /** Approval asked for by the request on top of the policy's (the alias route's `requireApproval: true`). */
  requireApproval?: boolean;
}

/** The policy's approval rule (for the endpoint's own policy when it has one) and the version's facts. */
async function loadCheck(db: Tx, check: ServingCheck) {
  const [row] = await db
    .select({ id: modelVersions.id, version: modelVersions.version, model: models.name, modelId: models.id, projectId: models.projectId, blessing: modelVersions.blessing, infraValidation: modelVersions.infraValidation, approval: modelVersions.approval })
    .from(modelVersions)
    .innerJoin(models, eq(models.id, modelVersions.modelId))
    .where(eq(modelVersions.id, check.modelVersionId));
  if (row?.projectId !== check.projectId) throw new UserError('model_version_not_found', `Model version ${check.modelVersionId} does not exist in this project.`, 404, { field: 'version' });
  const endpointName = 'endpoint' in check.target ? check.target.endpoint : null;
  const [endpoint] = endpointName ? await db.select({ id: endpoints.id }).from(endpoints).where(and(eq(endpoints.projectId, check.projectId), eq(endpoints.name, endpointName))) : [];
  const { policy } = await readModelPolicy(db, row.modelId, endpoint?.id ?? null);
  return { row, requireApproval: policy.promotion?.requireApproval === true || check.requireApproval === true };
}

/**
 * Refuses (409, naming what is missing) a version that may not serve on an endpoint or take production: not blessed,
 * not infra-validated, refused at approval, or not approved by a person when its model's policy asks.
 */
export async function checkVersionMayServe(db: Tx, check: ServingCheck): Promise<{ requireApproval: boolean }> {
  const { row, requireApproval } = await loadCheck(db, check);
  const toAlias = 'alias' in check.target;
  const refusal = servingRefusal(
    { label: `${row.model} v${row.version}`, blessing: row.blessing, infraValidation: row.infraValidation, approval: row.approval },
    // An alias move is itself the approval: the promotion waits for a person when the policy asks.
    { requireApproval, override: check.override, approvalAhead: toAlias },
  );
  if (refusal) throw new UserError(refusal.code, refusal.message, 409, { field: 'version', modelVersionId: row.id });
  // A version refused at approval before is asked about again, whatever the policy says.
  return { requireApproval: requireApproval || (toAlias && row.approval?.decision === 'rejected') };
}

/** An override on record for this version and endpoint (written by the API before the rollout started). */
export async function hasOverride(db: Tx, projectId: string, modelVersionId: string, endpointName: string): Promise<boolean> {
  const [row] = await db
    .select({ id: auditLog.id })
    .from(auditLog)
    .where(and(eq(auditLog.projectId, projectId), eq(auditLog.action, OVERRIDE_ACTION), eq(auditLog.subjectType, 'model_version'), eq(auditLog.subjectId, modelVersionId), sql`${auditLog.details}->>'endpoint' = ${endpointName}`))
    .limit(1);
  return row !== undefined;
}

export interface OverrideRecord {
  by: string;
  owner: string;
  reason: string;
  endpoint?: string;
  alias?: string;
  rolloutId?: string;
  workflowId?: string;
  at: string;
}

/** Audits an admin's override: who (key and person), why, and where the version goes. */
export async function recordOverride(db: Tx, input: { projectId: string; modelVersionId: string; override: Omit<OverrideRecord, 'at'> }): Promise<void> {
  await db.insert(auditLog).values({ projectId: input.projectId, actor: input.override.by, action: OVERRIDE_ACTION, subjectType: 'model_version', subjectId: input.modelVersionId, details: { ...input.override } });
}

/** Every override used on a version, oldest first. */
export async function versionOverrides(db: Tx, projectId: string, modelVersionId: string): Promise<OverrideRecord[]> {
  const rows = await db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.projectId, projectId), eq(auditLog.action, OVERRIDE_ACTION), eq(auditLog.subjectType, 'model_version'), eq(auditLog.subjectId, modelVersionId)))
    .orderBy(asc(auditLog.id));
  return rows.map((r) => ({ ...(r.details as Omit<OverrideRecord, 'at'>), at: r.createdAt.toISOString() }));
}

/** Overrides used on an endpoint, newest first (bounded). */
export async function endpointOverrides(db: Tx, projectId: string, endpointName: string, limit = 20): Promise<(OverrideRecord & { modelVersionId: string })[]> {
  const rows = await db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.projectId, projectId), eq(auditLog.action, OVERRIDE_ACTION), sql`${auditLog.details}->>'endpoint' = ${endpointName}`))
    .orderBy(desc(auditLog.id))
    .limit(limit);
  return rows.map((r) => ({ ...(r.details as Omit<OverrideRecord, 'at'>), modelVersionId: r.subjectId, at: r.createdAt.toISOString() }));
}
