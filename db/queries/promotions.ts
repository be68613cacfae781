import { and, eq } from 'drizzle-orm';
import type { Db } from '../client';
import { auditLog, models, modelVersions } from '../schema';
import { UserError } from '../../platform/user-error';

/** The model and version a promotion names, in this project; a 404 that says which one is missing. */
export async function findPromotableVersion(
  db: Db,
  projectId: string,
  modelName: string,
  version: number,
): Promise<{ modelId: string; modelName: string; modelVersionId: string; version: number }> {
  const [model] = await db.select().from(models).where(and(eq(models.projectId, projectId), eq(models.name, modelName)));
  if (!model) {
    throw new UserError('model_not_found', `There is no model named "${modelName.slice(0, 80)}"; a pipeline registers one under its registeredModel (or endpoint) name.`, 404, {
      field: 'name',
    });
  }
  const [row] = await db
    .select({ id: modelVersions.id, version: modelVersions.version })
    .from(modelVersions)
    .where(and(eq(modelVersions.modelId, model.id), eq(modelVersions.version, version)));
  if (!row) throw new UserError('model_version_not_found', `Model "${model.name}" has no version ${version}.`, 404, { field: 'version' });
  return { modelId: model.id, modelName: model.name, modelVersionId: row.id, version: row.version };
}

/** One row per promotion attempt, started or refused, so every attempt on an alias is on record. */
export async function auditPromotionAttempt(
  db: Db,
  attempt: { projectId: string; actor: string; action: 'promotion.requested' | 'promotion.refused'; modelVersionId: string; details: Record<string, unknown> },
): Promise<void> {
  await db.insert(auditLog).values({
    projectId: attempt.projectId,
    actor: attempt.actor,
    action: attempt.action,
    subjectType: 'model_version',
    subjectId: attempt.modelVersionId,
    details: attempt.details,
  });
}
