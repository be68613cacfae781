import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { Hono } from 'hono';
import { findDataset, findDatasetVersion, getDatasetVersion, listDatasets, listDatasetVersions, type DatasetVersionRow } from '../../db/queries/datasets';
import { UserError } from '../../platform/user-error';
import { ingestDataset } from '../../workflows';
import { factorySearchAttributes } from '../../workflows/contracts';
import type { ApiDeps } from '../deps';
import type { ApiEnv } from '../env';
import { answerOnce, idempotencyKeyOf, sha256Hex } from '../idempotency';
import { booleanQuery, checkResourceName } from '../json-body';
import { temporalUiLink, workflowStatusPath } from '../workflow-links';
import { requireRole } from '../middleware/api-key-auth';

const CSV_TYPES = new Set(['text/csv', 'application/csv', 'text/plain', 'application/octet-stream']);

export function datasetRoutes(deps: ApiDeps) {
  const app = new Hono<ApiEnv>();

  /**
   * Streams a CSV into the artifact store and starts the ingest workflow on it. Answers 202 with the workflow
   * to poll as soon as the bytes are stored; `?wait=true` waits for the version (201 new, 200 already known).
   */
  app.post('/:name/versions', requireRole('operator'), async (c) => {
    const name = checkResourceName('dataset', c.req.param('name'));
    const wait = booleanQuery(c.req.query('wait'), 'wait');
    const idempotencyKey = idempotencyKeyOf(c);
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
    // Derived from the content, so the same upload (a retry, a duplicate) always joins the same workflow.
    const workflowId = `ingest/${projectId}/${name}/${upload.sha256.slice(0, 24)}`;
    const request = { key: idempotencyKey, route: 'POST /v1/datasets/:name/versions', requestHash: sha256Hex(name, upload.sha256, contentType, String(wait)) };
    return answerOnce(c, deps.db, request, async () => {
      const handle = await deps.temporal.workflow.start(ingestDataset, {
        taskQueue: deps.taskQueues.cpu,
        workflowId,
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        memo: { projectId },
        typedSearchAttributes: factorySearchAttributes({ projectId, dataset: name }),
        args: [{ projectId, datasetName: name, uploadUri: upload.uri, uploadSha256: upload.sha256, uploadBytes: upload.bytes, contentType, timeouts: deps.activityTimeouts }],
      });
      if (!wait) {
        return {
          status: 202,
          body: { workflowId, status: workflowStatusPath(workflowId), dataset: name, upload: { sha256: upload.sha256, bytes: upload.bytes }, ...temporalUiLink(deps, workflowId) },
        };
      }
      const result = await handle.result();
      const version = await getDatasetVersion(deps.db, result.datasetVersionId);
      return { status: result.created ? 201 : 200, body: { dataset: name, ...versionView(version), created: result.created, workflowId } };
    });
  });

  app.get('/', async (c) => {
    const rows = await listDatasets(deps.db, c.get('auth').projectId);
    return c.json({ datasets: rows.map((d) => ({ name: d.name, createdAt: d.createdAt })) });
  });

  app.get('/:name/versions', async (c) => {
    const dataset = await findDataset(deps.db, c.get('auth').projectId, c.req.param('name'));
    const rows = await listDatasetVersions(deps.db, dataset.id);
    return c.json({ dataset: dataset.name, versions: rows.map(versionView) });
  });

  app.get('/:name/versions/:version', async (c) => {
    const dataset = await findDataset(deps.db, c.get('auth').projectId, c.req.param('name'));
    const version = await findDatasetVersion(deps.db, dataset, c.req.param('version'));
    return c.json({ dataset: dataset.name, ...versionView(version) });
  });

  return app;
}

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
