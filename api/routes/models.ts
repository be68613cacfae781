import { Hono } from 'hono';
import {
  aliasesByVersion,
  aliasHistory,
  findModel,
  findModelVersion,
  listModels,
  listModelVersions,
  loadCardSources,
  MAX_VERSIONS_PAGE,
  parseAlias,
  parseVersionNumber,
  type ModelRow,
  type ModelVersionRow,
} from '../../db/queries/models';
import { versionOverrides } from '../../db/queries/serving-guard';
import { buildModelCard } from '../../registry/model-card';
import { UserError } from '../../platform/user-error';
import type { ApiDeps } from '../deps';
import type { ApiEnv } from '../env';

const DEFAULT_VERSIONS_PAGE = 20;
const DEFAULT_HISTORY_PAGE = 50;

function parseLimit(raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const limit = Number(raw);
  if (!(Number.isInteger(limit) && limit >= 1 && limit <= MAX_VERSIONS_PAGE)) {
    throw new UserError('invalid_limit', `limit must be an integer from 1 to ${MAX_VERSIONS_PAGE} (got "${raw.slice(0, 20)}").`, 400, { field: 'limit' });
  }
  return limit;
}

// The cursor is the last number (version, or alias move) of the previous page: both only grow, so pages never shift.
function parseCursor(raw: string | undefined, listing: string): number | null {
  if (raw === undefined) return null;
  const before = Number(raw);
  if (!(Number.isSafeInteger(before) && before > 0)) {
    throw new UserError('invalid_cursor', `cursor must be the nextCursor of a previous page of ${listing}.`, 400, { field: 'cursor' });
  }
  return before;
}

function versionSummary(model: ModelRow, v: ModelVersionRow, aliases: string[]) {
  return {
    model: model.name,
    version: v.version,
    id: v.id,
    createdAt: v.createdAt,
    blessing: v.blessing.decision,
    aliases,
    onnxSha256: v.onnxSha256,
    failed: v.failure !== null,
  };
}

/** Markdown unless the client asks for JSON and not for Markdown. */
function wantsJson(accept: string | undefined): boolean {
  const types = (accept ?? '').split(',').map((t) => t.split(';')[0]?.trim().toLowerCase());
  return types.includes('application/json') && !types.includes('text/markdown');
}

/** The registry, read-only: every key of the project may browse it (viewer and up). */
export function modelRoutes(deps: ApiDeps) {
  const app = new Hono<ApiEnv>();

  app.get('/', async (c) => {
    const models = await listModels(deps.db, c.get('auth').projectId);
    return c.json({ models });
  });

  app.get('/:name/versions', async (c) => {
    const model = await findModel(deps.db, c.get('auth').projectId, c.req.param('name'));
    const limit = parseLimit(c.req.query('limit'), DEFAULT_VERSIONS_PAGE);
    const before = parseCursor(c.req.query('cursor'), 'versions');
    const versions = await listModelVersions(deps.db, model.id, { limit, before });
    const aliases = await aliasesByVersion(deps.db, [model.id]);
    const last = versions.at(-1);
    return c.json({
      model: model.name,
      versions: versions.map((v) => versionSummary(model, v, aliases.filter((a) => a.modelVersionId === v.id).map((a) => a.alias))),
      nextCursor: versions.length === limit && last && last.version > 1 ? String(last.version) : null,
    });
  });

  app.get('/:name/versions/:version', async (c) => {
    const model = await findModel(deps.db, c.get('auth').projectId, c.req.param('name'));
    const v = await findModelVersion(deps.db, model, parseVersionNumber(c.req.param('version')));
    const aliases = (await aliasesByVersion(deps.db, [model.id])).filter((a) => a.modelVersionId === v.id).map((a) => a.alias);
    return c.json({
      ...versionSummary(model, v, aliases),
      trainingRunId: v.trainingRunId,
      datasetVersionId: v.datasetVersionId,
      onnxUri: v.onnxUri,
      inputSchema: v.inputSchema,
      outputSchema: v.outputSchema,
      evaluation: v.evaluation,
      blessing: v.blessing,
      infraValidation: v.infraValidation,
      approval: v.approval,
      // Admin overrides of the serving guard used on this version (who, why, where).
      overrides: await versionOverrides(deps.db, model.projectId, v.id),
      lineage: v.lineage,
      failure: v.failure === null ? null : { message: v.failure, cause: v.failureCause, at: v.failedAt },
      links: { card: `/v1/models/${encodeURIComponent(model.name)}/versions/${v.version}/card` },
    });
  });

  app.get('/:name/versions/:version/card', async (c) => {
    const model = await findModel(deps.db, c.get('auth').projectId, c.req.param('name'));
    const v = await findModelVersion(deps.db, model, parseVersionNumber(c.req.param('version')));
    const { run, datasetVersion, datasetName } = await loadCardSources(deps.db, v);
    // Rebuilt from the stored records, so versions registered before cards existed get one too.
    const card = buildModelCard({
      model: { name: model.name },
      version: { id: v.id, version: v.version, createdAt: v.createdAt, onnxSha256: v.onnxSha256, features: v.inputSchema.features },
      run,
      dataset: datasetVersion ? { id: datasetVersion.id, name: datasetName, version: datasetVersion.version, rows: datasetVersion.rowCount } : null,
      evaluation: v.evaluation,
      blessing: v.blessing,
      lineage: v.lineage,
    });
    c.header('vary', 'Accept');
    if (wantsJson(c.req.header('accept'))) return c.json(card.json);
    return c.body(card.markdown, 200, { 'content-type': 'text/markdown; charset=utf-8' });
  });

  /** Every move of the alias, newest first, `limit` (default 50) at a time; `nextCursor` pages on. */
  app.get('/:name/aliases/:alias/history', async (c) => {
    const alias = parseAlias(c.req.param('alias'));
    const model = await findModel(deps.db, c.get('auth').projectId, c.req.param('name'));
    const limit = parseLimit(c.req.query('limit'), DEFAULT_HISTORY_PAGE);
    // One more than asked for says whether another page exists.
    const read = await aliasHistory(deps.db, model.id, alias, { limit: limit + 1, before: parseCursor(c.req.query('cursor'), 'alias history') });
    const history = read.slice(0, limit);
    const last = history.at(-1);
    return c.json({ model: model.name, alias, history, nextCursor: read.length > limit && last ? String(last.id) : null });
  });

  return app;
}
