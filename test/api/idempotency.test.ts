import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idempotencyKeys } from '../../db/schema';
import { churnRows, toCsv } from '../support/synthetic-data';
import { startTestFactory, type TestFactory } from '../support/test-factory';

const DUPLICATES = 6;

/** A client that retries (or races itself) with the same Idempotency-Key never starts a second run. */
describe('Idempotency-Key on POSTs that start work', () => {
  let t: TestFactory;
  const csv = toCsv(churnRows(200));

  const post = async (path: string, key: string | undefined, init: { json?: unknown; body?: string; contentType?: string }): Promise<Response> =>
    t.factory.app.request(path, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${t.adminKey}`,
        'content-type': init.contentType ?? 'application/json',
        ...(key !== undefined && { 'idempotency-key': key }),
      },
      body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
    });
  const pipeline = (key: string | undefined, endpoint = 'idem') =>
    post('/v1/pipelines', key, { json: { dataset: 'churn', target: 'churned', model: { type: 'logistic', epochs: 1 }, endpoint } });
  const answers = async (responses: Response[]) => Promise.all(responses.map(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> })));

  /** The runs visibility knows under an id, once it knows at least one (it is eventually consistent). */
  const runsOf = async (workflowId: string): Promise<string[]> => {
    for (let attempt = 0; attempt < 200; attempt++) {
      const runs: string[] = [];
      for await (const run of t.factory.client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) runs.push(run.runId);
      if (runs.length > 0) return runs;
      await new Promise((r) => setTimeout(r, 100));
    }
    return [];
  };

  beforeAll(async () => {
    t = await startTestFactory();
    expect((await post('/v1/datasets/churn/versions?wait=true', undefined, { body: csv, contentType: 'text/csv' })).status).toBe(201);
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('concurrent duplicate pipeline starts return one workflow and one answer', async () => {
    const key = randomUUID();
    const results = await answers(await Promise.all(Array.from({ length: DUPLICATES }, () => pipeline(key))));
    expect(new Set(results.map((r) => r.status))).toEqual(new Set([202]));
    const workflowIds = new Set(results.map((r) => r.body.workflowId));
    expect(workflowIds.size).toBe(1);
    expect(new Set(results.map((r) => JSON.stringify(r.body))).size).toBe(1);
    const workflowId = String(results[0]?.body.workflowId);
    // Exactly one run exists under that id.
    expect(await runsOf(workflowId)).toHaveLength(1);

    // A retry long after, even once the run has closed, still answers the same and starts nothing.
    await t.factory.client.workflow.getHandle(workflowId).result().catch(() => undefined);
    const retry = await pipeline(key);
    expect(retry.status).toBe(202);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.headers.get('location')).toBe(`/v1/workflows/${encodeURIComponent(workflowId)}`);
    expect(await retry.json()).toEqual(results[0]?.body);
  });

  it('a retry after a crash between starting and recording joins the run that was started', async () => {
    const key = randomUUID();
    const first = await pipeline(key);
    const { workflowId } = (await first.json()) as { workflowId: string };
    expect(workflowId).toMatch(/^pipeline-idem-[0-9a-f]{16}$/);
    // As if the API died after starting the workflow but before recording its answer.
    await t.database.db
      .update(idempotencyKeys)
      .set({ status: null, response: null, workflowId: null, completedAt: null })
      .where(and(eq(idempotencyKeys.projectId, t.projectId), eq(idempotencyKeys.key, key)));
    const retry = await pipeline(key);
    expect(retry.status).toBe(202);
    expect(((await retry.json()) as { workflowId: string }).workflowId).toBe(workflowId);
    expect(await runsOf(workflowId)).toHaveLength(1);
  });

  it('the same key with a different body is a 409', async () => {
    const key = randomUUID();
    expect((await pipeline(key, 'first')).status).toBe(202);
    const reused = await pipeline(key, 'second');
    expect(reused.status).toBe(409);
    expect(((await reused.json()) as { error: { code: string } }).error.code).toBe('idempotency_key_reused');
    // Across routes too: a key is bound to what it first asked for.
    const upload = await post('/v1/datasets/churn/versions', key, { body: csv, contentType: 'text/csv' });
    expect(upload.status).toBe(409);
  });

  it('without a key, every POST starts its own run', async () => {
    const [a, b] = await answers([await pipeline(undefined), await pipeline(undefined)]);
    expect(a?.body.workflowId).not.toBe(b?.body.workflowId);
  });

  it('concurrent duplicate uploads share one ingest and one answer', async () => {
    const key = randomUUID();
    const fresh = csv + '7,7,7,no\n';
    const results = await answers(await Promise.all(Array.from({ length: DUPLICATES }, () => post('/v1/datasets/churn/versions', key, { body: fresh, contentType: 'text/csv' }))));
    expect(new Set(results.map((r) => r.status))).toEqual(new Set([202]));
    expect(new Set(results.map((r) => JSON.stringify(r.body))).size).toBe(1);
    const other = await post('/v1/datasets/churn/versions', key, { body: csv + '8,8,8,no\n', contentType: 'text/csv' });
    expect(other.status).toBe(409);
  });

  it('a request that fails frees its key for the corrected request', async () => {
    const key = randomUUID();
    const bad = await post('/v1/pipelines', key, { json: { dataset: 'nope', target: 'churned', model: { type: 'logistic' }, endpoint: 'idem' } });
    expect(bad.status).toBe(404);
    const [row] = await t.database.db.select().from(idempotencyKeys).where(and(eq(idempotencyKeys.projectId, t.projectId), eq(idempotencyKeys.key, key)));
    expect(row).toBeUndefined();
    expect((await pipeline(key)).status).toBe(202);
  });

  it('refuses a malformed key with a 400', async () => {
    for (const key of ['', 'has space', 'x'.repeat(256), 'na\u00efve']) {
      const res = await post('/v1/pipelines', key, { json: {} });
      expect({ key, status: res.status, code: ((await res.json()) as { error: { code: string } }).error.code }).toEqual({ key, status: 400, code: 'invalid_idempotency_key' });
    }
  });
});
