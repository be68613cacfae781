import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { and, desc, eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { datasets, datasetVersions } from '../../db/schema';
import { UserError } from '../../lib/user-error';
import { ingestDataset } from '../../workflows';
import type { ApiDeps } from '../deps';
import type { ApiEnv } from '../env';
import { checkResourceName } from '../json-body';
import { requireRole } from '../middleware/api-key-auth';

const CSV_TYPES = new Set(['text/csv', 'application/csv', 'text/plain', 'application/octet-stream']);

export function datasetRoutes(deps: ApiDeps) {
  const app = new Hono<ApiEnv>();

  /** Streams a CSV into the artifact store, then runs the ingest workflow on it and answers with the version. */
  app.post('/:name/versions', requireRole('operator'), async (c) => {
    const name = checkResourceName('dataset', c.req.param('name'));
    const contentType = (c.req.header('content-type') ?? 'text/csv').split(';')[0]?.trim().toLowerCase() ?? '';
    if (!CSV_TYPES.has(contentType)) {
      throw new UserError('unsupported_media_type', `Send the dataset as CSV with Content-Type: text/csv (got ${contentType}).`, 415);
    }
    const declared = Number(c.req.header('content-length') ?? NaN);
    if (declared > deps.maxUploadBytes) {
      throw new UserError('payload_too_large', `The upload is larger than the limit of ${deps.maxUploadBytes} bytes; split the file or raise FACTORY_MAX_UPLOAD_BYTES.`, 413, {
        limitBytes: deps.maxUploadBytes,
      });
    }
    const body = c.req.raw.body;
    if (!body) throw new UserError('empty_csv', 'The request body is empty; send the CSV file as the body.', 422);
    const upload = await deps.artifacts.putStream(Readable.fromWeb(body as WebReadableStream<Uint8Array>), { maxBytes: deps.maxUploadBytes });

    const { projectId } = c.get('auth');
    const workflowId = `ingest/${projectId}/${name}/${upload.sha256.slice(0, 24)}`;
    const handle = await deps.temporal.workflow.start(ingestDataset, {
      taskQueue: deps.taskQueues.cpu,
      workflowId,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      memo: { projectId },
      args: [{ projectId, datasetName: name, uploadUri: upload.uri, uploadSha256: upload.sha256, uploadBytes: upload.bytes, contentType }],
    });
    const result = await handle.result();
    const [version] = await deps.db.select().from(datasetVersions).where(eq(datasetVersions.id, result.datasetVersionId));
    if (!version) throw new Error(`dataset version ${result.datasetVersionId} not found after ingest`);
    return c.json({ dataset: name, ...versionView(version), created: result.created, workflowId }, result.created ? 201 : 200);
  });

  app.get('/', async (c) => {
    const rows = await deps.db.select().from(datasets).where(eq(datasets.projectId, c.get('auth').projectId)).orderBy(datasets.name);
    return c.json({ datasets: rows.map((d) => ({ name: d.name, createdAt: d.createdAt })) });
  });

  app.get('/:name/versions', async (c) => {
    const dataset = await findDataset(deps, c.get('auth').projectId, c.req.param('name'));
    const rows = await deps.db.select().from(datasetVersions).where(eq(datasetVersions.datasetId, dataset.id)).orderBy(desc(datasetVersions.version));
    return c.json({ dataset: dataset.name, versions: rows.map(versionView) });
  });

  app.get('/:name/versions/:version', async (c) => {
    const dataset = await findDataset(deps, c.get('auth').projectId, c.req.param('name'));
    const version = await findDatasetVersion(deps, dataset, c.req.param('version'));
    return c.json({ dataset: dataset.name, ...versionView(version) });
  });

  return app;
}

type DatasetRow = typeof datasets.$inferSelect;
type DatasetVersionRow = typeof datasetVersions.$inferSelect;

function versionView(v: DatasetVersionRow) {
  return {
    id: v.id,
    version: v.version,
    contentHash: v.contentHash,
    rowCount: v.rowCount,
    schema: v.schema,
    stats: v.stats,
    anomalies: v.anomalies,
    source: v.source,
    createdAt: v.createdAt,
  };
}

export async function findDataset(deps: Pick<ApiDeps, 'db'>, projectId: string, name: string): Promise<DatasetRow> {
  const [dataset] = await deps.db.select().from(datasets).where(and(eq(datasets.projectId, projectId), eq(datasets.name, name)));
  if (!dataset) {
    throw new UserError('dataset_not_found', `There is no dataset named "${name.slice(0, 80)}"; upload one with POST /v1/datasets/{name}/versions.`, 404, {
      field: 'dataset',
    });
  }
  return dataset;
}

/** A version number, or "latest". */
export async function findDatasetVersion(deps: Pick<ApiDeps, 'db'>, dataset: DatasetRow, version: string | number): Promise<DatasetVersionRow> {
  const latest = version === 'latest';
  const number = Number(version);
  if (!latest && !(Number.isInteger(number) && number > 0)) {
    throw new UserError('invalid_dataset_version', `Dataset version must be a positive integer or "latest" (got "${String(version).slice(0, 40)}").`, 400, { field: 'version' });
  }
  const [row] = await deps.db
    .select()
    .from(datasetVersions)
    .where(latest ? eq(datasetVersions.datasetId, dataset.id) : and(eq(datasetVersions.datasetId, dataset.id), eq(datasetVersions.version, number)))
    .orderBy(desc(datasetVersions.version))
    .limit(1);
  if (!row) {
    throw new UserError('dataset_version_not_found', `Dataset "${dataset.name}" has no version ${String(version)}.`, 404, { field: 'version' });
  }
  return row;
}
