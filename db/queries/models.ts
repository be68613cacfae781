import { and, desc, eq, inArray, lt, max } from 'drizzle-orm';
import { alias as aliasTable } from 'drizzle-orm/pg-core';
import type { Db } from '../client';
import { datasets, datasetVersions, MODEL_ALIASES, modelAliasEvents, modelAliases, models, modelVersions, trainingRuns, type ModelAlias } from '../schema';
import { UserError } from '../../platform/user-error';

export type ModelRow = typeof models.$inferSelect;
export type ModelVersionRow = typeof modelVersions.$inferSelect;

export const MAX_VERSIONS_PAGE = 100;

export async function findModel(db: Db, projectId: string, name: string): Promise<ModelRow> {
  const [model] = await db.select().from(models).where(and(eq(models.projectId, projectId), eq(models.name, name)));
  if (!model) {
    throw new UserError('model_not_found', `There is no model named "${name.slice(0, 80)}" in this project; GET /v1/models lists them.`, 404, { field: 'model' });
  }
  return model;
}

/** A version number as the URL spells it: a positive integer. */
export function parseVersionNumber(raw: string): number {
  const version = Number(raw);
  if (!(Number.isInteger(version) && version > 0)) {
    throw new UserError('invalid_model_version', `A model version is a positive integer (got "${raw.slice(0, 40)}").`, 400, { field: 'version' });
  }
  return version;
}

export function parseAlias(raw: string): ModelAlias {
  if (!(MODEL_ALIASES as readonly string[]).includes(raw)) {
    throw new UserError('unknown_alias', `There is no alias "${raw.slice(0, 40)}"; aliases are ${MODEL_ALIASES.join(', ')}.`, 404, { field: 'alias' });
  }
  return raw as ModelAlias;
}

export async function findModelVersion(db: Db, model: ModelRow, version: number): Promise<ModelVersionRow> {
  const [row] = await db.select().from(modelVersions).where(and(eq(modelVersions.modelId, model.id), eq(modelVersions.version, version)));
  if (!row) {
    throw new UserError('model_version_not_found', `Model "${model.name}" has no version ${version}; GET /v1/models/${model.name}/versions lists them.`, 404, {
      field: 'version',
    });
  }
  return row;
}

/** Which alias each version holds, for a model. */
export async function aliasesByVersion(db: Db, modelIds: string[]): Promise<{ modelId: string; alias: ModelAlias; modelVersionId: string; version: number }[]> {
  if (modelIds.length === 0) return [];
  return db
    .select({ modelId: modelAliases.modelId, alias: modelAliases.alias, modelVersionId: modelAliases.modelVersionId, version: modelVersions.version })
    .from(modelAliases)
    .innerJoin(modelVersions, eq(modelVersions.id, modelAliases.modelVersionId))
    .where(inArray(modelAliases.modelId, modelIds));
}

export interface ModelSummary {
  name: string;
  id: string;
  createdAt: Date;
  latestVersion: number | null;
  aliases: Partial<Record<ModelAlias, number>>;
}

/** A project's models with their latest version number and where each alias points. */
export async function listModels(db: Db, projectId: string): Promise<ModelSummary[]> {
  const rows = await db
    .select({ id: models.id, name: models.name, createdAt: models.createdAt, latestVersion: max(modelVersions.version) })
    .from(models)
    .leftJoin(modelVersions, eq(modelVersions.modelId, models.id))
    .where(eq(models.projectId, projectId))
    .groupBy(models.id)
    .orderBy(models.name);
  const aliases = await aliasesByVersion(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((r) => ({
    ...r,
    aliases: Object.fromEntries(aliases.filter((a) => a.modelId === r.id).map((a) => [a.alias, a.version])),
  }));
}

/** Newest first; `before` is the last version number of the previous page. */
export async function listModelVersions(db: Db, modelId: string, page: { limit: number; before: number | null }): Promise<ModelVersionRow[]> {
  return db
    .select()
    .from(modelVersions)
    .where(page.before === null ? eq(modelVersions.modelId, modelId) : and(eq(modelVersions.modelId, modelId), lt(modelVersions.version, page.before)))
    .orderBy(desc(modelVersions.version))
    .limit(page.limit);
}

/** What a model card is built from besides the version: its training run and dataset version. */
export async function loadCardSources(db: Db, version: ModelVersionRow) {
  const [row] = await db
    .select({ run: trainingRuns, datasetVersion: datasetVersions, datasetName: datasets.name })
    .from(trainingRuns)
    .leftJoin(datasetVersions, eq(datasetVersions.id, trainingRuns.datasetVersionId))
    .leftJoin(datasets, eq(datasets.id, datasetVersions.datasetId))
    .where(eq(trainingRuns.id, version.trainingRunId));
  if (!row) throw new Error(`training run ${version.trainingRunId} of model version ${version.id} is missing`);
  return row;
}

export interface AliasHistoryEntry {
  id: number;
  from: { id: string; version: number } | null;
  to: { id: string; version: number };
  actor: string;
  reason: string;
  workflowId: string | null;
  at: Date;
}

/**
 * An alias's moves with version numbers, newest first; `before` (an event id, the last of the previous page)
 * pages on. Moves of a model serialise on its row lock, so ids grow in commit order and pages never shift.
 */
export async function aliasHistory(db: Db, modelId: string, alias: ModelAlias, page: { limit: number; before: number | null }): Promise<AliasHistoryEntry[]> {
  const fromVersion = aliasTable(modelVersions, 'from_version');
  const toVersion = aliasTable(modelVersions, 'to_version');
  const rows = await db
    .select({
      id: modelAliasEvents.id,
      fromVersionId: modelAliasEvents.fromVersionId,
      toVersionId: modelAliasEvents.toVersionId,
      actor: modelAliasEvents.actor,
      reason: modelAliasEvents.reason,
      workflowId: modelAliasEvents.workflowId,
      at: modelAliasEvents.createdAt,
      fromNumber: fromVersion.version,
      toNumber: toVersion.version,
    })
    .from(modelAliasEvents)
    .leftJoin(fromVersion, eq(fromVersion.id, modelAliasEvents.fromVersionId))
    .innerJoin(toVersion, eq(toVersion.id, modelAliasEvents.toVersionId))
    .where(and(eq(modelAliasEvents.modelId, modelId), eq(modelAliasEvents.alias, alias), page.before === null ? undefined : lt(modelAliasEvents.id, page.before)))
    .orderBy(desc(modelAliasEvents.id))
    .limit(page.limit);
  return rows.map(({ fromNumber, toNumber, fromVersionId, toVersionId, ...event }) => ({
    ...event,
    from: fromVersionId && fromNumber !== null ? { id: fromVersionId, version: fromNumber } : null,
    to: { id: toVersionId, version: toNumber },
  }));
}

/** Model name and number of each version id (unknown ids left out), for people reading traffic and rollouts. */
export async function versionNamesByIds(db: Db, ids: readonly (string | null)[]): Promise<Map<string, { versionId: string; model: string; version: number }>> {
  const wanted = [...new Set(ids.filter((id): id is string => id !== null))];
  if (!wanted.length) return new Map();
  const rows = await db
    .select({ id: modelVersions.id, version: modelVersions.version, model: models.name })
    .from(modelVersions)
    .innerJoin(models, eq(models.id, modelVersions.modelId))
    .where(inArray(modelVersions.id, wanted));
  return new Map(rows.map((r) => [r.id, { versionId: r.id, model: r.model, version: r.version }]));
}
