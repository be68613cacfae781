import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapProject } from '../../db/queries/projects';
import { factorySearchAttributes } from '../../workflows/contracts';
import { startTestFactory, waitForWorkflow, type TestFactory } from '../support/test-factory';

interface WorkflowSummary {
  workflowId: string;
  type: string;
  status: string;
  startTime: string;
  closeTime: string | null;
  parent?: string;
}
interface WorkflowPage {
  workflows: WorkflowSummary[];
  nextPageToken: string | null;
}

/** GET /v1/workflows lists a project's workflows (child stages too) through Temporal visibility. */
describe('workflows: list, filter and look up through visibility', () => {
  let t: TestFactory;
  let otherKey: string;
  let pipelineId: string;
  let ingestId: string;

  const list = async (query: string, key?: string): Promise<WorkflowPage> => {
    const res = await t.request('GET', `/v1/workflows${query}`, { key });
    expect(res.status).toBe(200);
    return (await res.json()) as WorkflowPage;
  };
  /** Visibility is eventually consistent: polls until the listing satisfies `done`. */
  const listUntil = async (query: string, done: (page: WorkflowPage) => boolean): Promise<WorkflowPage> => {
    for (let attempt = 0; ; attempt++) {
      const page = await list(query);
      if (done(page)) return page;
      if (attempt > 200) throw new Error(`visibility never showed what was expected for ${query}: ${JSON.stringify(page)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const ids = (page: WorkflowPage) => page.workflows.map((w) => w.workflowId);

  beforeAll(async () => {
    t = await startTestFactory();
    otherKey = `afk_test_other_${randomUUID()}`;
    await bootstrapProject(t.database.db, { projectName: `other-${randomUUID().slice(0, 8)}`, adminKey: otherKey });

    const upload = await t.request('POST', '/v1/datasets/people/versions', { body: 'age,income,label\n30,100,a\n40,200,b\n50,300,c\n', contentType: 'text/csv' });
    expect(upload.status).toBe(202);
    ingestId = ((await upload.json()) as { workflowId: string }).workflowId;
    expect((await waitForWorkflow(t, ingestId)).status).toBe('COMPLETED');
    // Three classes: the pipeline fails in its train stage, quickly, after starting a child.
    const start = await t.request('POST', '/v1/pipelines', { json: { dataset: 'people', target: 'label', model: { type: 'logistic' }, endpoint: 'people-ep', registeredModel: 'people-model' } });
    expect(start.status).toBe(202);
    pipelineId = ((await start.json()) as { workflowId: string }).workflowId;
    expect((await waitForWorkflow(t, pipelineId)).status).toBe('FAILED');
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('lists the pipeline, its child stage and the ingest, newest first', async () => {
    const page = await listUntil('', (p) => [pipelineId, `${pipelineId}/train`, ingestId].every((id) => ids(p).includes(id)));
    const train = page.workflows.find((w) => w.workflowId === `${pipelineId}/train`);
    expect(train).toMatchObject({ type: 'trainModel', status: 'FAILED', parent: pipelineId });
    expect(page.workflows.find((w) => w.workflowId === ingestId)).toMatchObject({ type: 'ingestDataset', status: 'COMPLETED' });
    expect(ids(page).indexOf(pipelineId)).toBeLessThan(ids(page).indexOf(ingestId));
  });

  it('filters by type, status, dataset, model and endpoint', async () => {
    expect(ids(await listUntil('?type=factoryPipeline', (p) => p.workflows.length > 0))).toEqual([pipelineId]);
    expect(ids(await listUntil('?type=trainModel&status=Failed', (p) => p.workflows.length > 0))).toEqual([`${pipelineId}/train`]);
    expect(ids(await list('?status=RUNNING'))).toEqual([]);
    const byEndpoint = await listUntil('?endpoint=people-ep', (p) => p.workflows.length >= 2);
    expect(ids(byEndpoint).sort()).toEqual([pipelineId, `${pipelineId}/train`].sort());
    expect(ids(await list('?model=people-model&type=trainModel'))).toEqual([`${pipelineId}/train`]);
    expect(ids(await list('?dataset=people&type=ingestDataset'))).toEqual([ingestId]);
    expect(ids(await list('?dataset=nobody'))).toEqual([]);
  });

  it('pages with an opaque token', async () => {
    const first = await listUntil('?pageSize=1', (p) => p.nextPageToken !== null);
    expect(first.workflows).toHaveLength(1);
    const second = await list(`?pageSize=1&pageToken=${first.nextPageToken}`);
    expect(second.workflows).toHaveLength(1);
    expect(second.workflows[0]?.workflowId).not.toBe(first.workflows[0]?.workflowId);
    // A token belongs to its filters: with others it is refused, not misapplied.
    const res = await t.request('GET', `/v1/workflows?pageSize=1&type=trainModel&pageToken=${first.nextPageToken}`);
    expect(res.status).toBe(400);
  });

  it('lists newest first by start time across pages, whatever ran or closed when', async () => {
    const key = `afk_test_order_${randomUUID()}`;
    const { projectId } = await bootstrapProject(t.database.db, { projectName: `order-${randomUUID().slice(0, 8)}`, adminKey: key });
    // Started in this order on a queue no worker polls; some closed, in another order than they started.
    const started: string[] = [];
    for (let i = 1; i <= 7; i++) {
      const workflowId = `order-${projectId}-${i}`;
      await t.factory.client.workflow.start('ingestDataset', { taskQueue: `nobody-${projectId}`, workflowId, args: [], typedSearchAttributes: factorySearchAttributes({ projectId }) });
      started.push(workflowId);
      await new Promise((r) => setTimeout(r, 5));
    }
    for (const i of [4, 2, 7, 1]) await t.factory.client.workflow.getHandle(started[i - 1]!).terminate('closed out of order');
    const newestFirst = [...started].reverse();

    const listAll = async (pageSize: number): Promise<{ pages: string[][]; statuses: string[] }> => {
      const pages: string[][] = [];
      const statuses: string[] = [];
      let token: string | null = null;
      do {
        const page: WorkflowPage = await list(`?pageSize=${pageSize}${token ? `&pageToken=${token}` : ''}`, key);
        pages.push(ids(page));
        statuses.push(...page.workflows.map((w) => w.status));
        token = page.nextPageToken;
      } while (token !== null && pages.length < 20);
      return { pages, statuses };
    };
    // Visibility is eventually consistent: wait until it shows every close.
    for (let attempt = 0; (await listAll(100)).statuses.filter((s) => s === 'TERMINATED').length < 4; attempt++) {
      if (attempt > 100) throw new Error('visibility never showed the terminated workflows');
      await new Promise((r) => setTimeout(r, 100));
    }
    const { pages, statuses } = await listAll(3);
    expect(pages).toEqual([newestFirst.slice(0, 3), newestFirst.slice(3, 6), newestFirst.slice(6)]);
    expect(statuses).toEqual(['TERMINATED', 'RUNNING', 'RUNNING', 'TERMINATED', 'RUNNING', 'TERMINATED', 'TERMINATED']);
    // The cursor is stable: a workflow started after the first page was read does not shift the pages after it.
    const first = await list('?pageSize=3', key);
    await t.factory.client.workflow.start('ingestDataset', { taskQueue: `nobody-${projectId}`, workflowId: `order-${projectId}-8`, args: [], typedSearchAttributes: factorySearchAttributes({ projectId }) });
    expect(ids(await list(`?pageSize=3&pageToken=${first.nextPageToken}`, key))).toEqual(newestFirst.slice(3, 6));
    for (const id of [...started, `order-${projectId}-8`]) await t.factory.client.workflow.getHandle(id).terminate('test over').catch(() => undefined);
  });

  it('gives a child stage by id', async () => {
    const res = await t.request('GET', `/v1/workflows/${encodeURIComponent(`${pipelineId}/train`)}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ type: 'trainModel', status: 'FAILED', error: { code: 'too_few_rows' } });
  });

  it('never shows a workflow to another project', async () => {
    expect((await list('', otherKey)).workflows).toEqual([]);
    for (const id of [pipelineId, `${pipelineId}/train`, ingestId]) {
      const res = await t.request('GET', `/v1/workflows/${encodeURIComponent(id)}`, { key: otherKey });
      expect(res.status).toBe(404);
    }
  });

  it('refuses filters it cannot honour with a 400 that names the parameter', async () => {
    for (const [query, code, field] of [
      ['?status=sleeping', 'invalid_workflow_status', 'status'],
      ['?type=dropTables', 'invalid_workflow_type', 'type'],
      ['?dataset=%22%20OR%20true', 'invalid_name', 'dataset'],
      ['?pageSize=1000', 'invalid_page_size', 'pageSize'],
      ['?pageToken=not*a*token', 'invalid_page_token', 'pageToken'],
      ['?pageToken=AAAA', 'invalid_page_token', 'pageToken'],
      [`?pageToken=${Buffer.from('{"StartTime":"yesterday"}').toString('base64url')}`, 'invalid_page_token', 'pageToken'],
    ] as const) {
      const res = await t.request('GET', `/v1/workflows${query}`);
      const body = (await res.json()) as { error: { code: string; field: string; message: string } };
      expect({ query, status: res.status, code: body.error.code, field: body.error.field }).toEqual({ query, status: 400, code, field });
    }
  });
});
