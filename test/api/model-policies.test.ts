import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, models } from '../../db/schema';
import { churnRows } from '../support/synthetic-data';
import { startTestFactory, waitForWorkflow, type TestFactory } from '../support/test-factory';

interface PolicyBody {
  model: string;
  endpoint: string | null;
  source?: string;
  version: number | null;
  changed?: boolean;
  policy: {
    promotion: { thresholds: Record<string, unknown>[]; requireApproval: boolean; approvalTimeout: string } | null;
    rollout: Record<string, unknown> | null;
    slices: string[];
    fairness: unknown;
  };
}

const codeOf = async (res: Response) => ({ status: res.status, code: ((await res.json()) as { error: { code: string } }).error.code });

/** The churn rows with a region (a string column to slice by). */
const csv = ['tenure,spend,noise,region,churned', ...churnRows(200).map((r, i) => `${r.tenure},${r.spend},${r.noise},${i % 2 ? 'north' : 'south'},${r.churned}`)].join('\n') + '\n';

/** GET/PUT /v1/models/{name}/policy: what a pipeline stored, versions, audit, roles, validation and the endpoint override. */
describe('model policy routes', () => {
  let t: TestFactory;
  let viewer: string;
  let operator: string;
  let firstPipeline: string;

  const pipeline = async (extra: Record<string, unknown>, key?: string) => {
    const res = await t.request('POST', '/v1/pipelines', {
      json: { dataset: 'churn', target: 'churned', features: ['tenure', 'spend'], model: { type: 'logistic', epochs: 3, learningRate: 0.1 }, endpoint: 'churn', ...extra },
      key,
    });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { workflowId: string; policy: { follows: { source: string; version: number | null }; stored: { version: number; changed: boolean } | null; fromStored: string[] } };
    expect((await waitForWorkflow(t, body.workflowId)).status).toBe('COMPLETED');
    return body;
  };
  const read = async (query = '', key = viewer) => {
    const res = await t.request('GET', `/v1/models/churn/policy${query}`, { key });
    expect(res.status).toBe(200);
    return (await res.json()) as PolicyBody;
  };
  const put = (json: unknown, query = '', key?: string) => t.request('PUT', `/v1/models/churn/policy${query}`, { json, key });

  beforeAll(async () => {
    t = await startTestFactory({ activityTimeouts: { heartbeatTimeoutMs: 3000 } });
    viewer = await t.createKey('viewer');
    operator = await t.createKey('operator');
    expect((await t.request('POST', '/v1/datasets/churn/versions?wait=true', { body: csv, contentType: 'text/csv' })).status).toBe(201);
    const first = await pipeline({ promotion: { thresholds: [{ metric: 'accuracy', min: 0.5 }], requireApproval: false }, slices: ['region'] }, operator);
    expect(first.policy).toEqual({ model: 'churn', follows: { source: 'model', version: 1 }, stored: { version: 1, changed: true }, fromStored: [], notApplied: [] });
    firstPipeline = first.workflowId;
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('a pipeline that sets a policy stores it for its model; any key reads it in the shapes the pipeline took', async () => {
    expect(await read()).toEqual({
      model: 'churn',
      endpoint: null,
      source: 'model',
      version: 1,
      policy: { promotion: { thresholds: [{ metric: 'accuracy', min: 0.5 }], requireApproval: false, approvalTimeout: '1d' }, rollout: null, slices: ['region'], fairness: null },
    });
    expect(await codeOf(await t.request('GET', '/v1/models/nope/policy', { key: viewer }))).toEqual({ status: 404, code: 'model_not_found' });
    expect(await codeOf(await t.request('GET', '/v1/models/nope/policy/history', { key: viewer }))).toEqual({ status: 404, code: 'model_not_found' });
  });

  it('a pipeline that sets nothing keeps the stored policy and follows it', async () => {
    expect((await pipeline({})).policy).toMatchObject({ follows: { source: 'model', version: 1 }, stored: null, fromStored: ['promotion', 'slices'] });
    expect(await read()).toMatchObject({ version: 1, policy: { slices: ['region'], promotion: { requireApproval: false } } });
  });

  it('PUT is for admins, checks the policy as a pipeline would (422 with stable codes) and 404s an unknown model', async () => {
    const policy = { promotion: { thresholds: [{ metric: 'accuracy', maxDrop: 0.02 }], requireApproval: true }, reason: 'approval from now on' };
    expect(await codeOf(await put(policy, '', operator))).toEqual({ status: 403, code: 'forbidden' });
    expect(await codeOf(await put(policy, '', viewer))).toEqual({ status: 403, code: 'forbidden' });
    expect(await codeOf(await t.request('PUT', '/v1/models/nope/policy', { json: policy }))).toEqual({ status: 404, code: 'model_not_found' });
    const bad = async (json: Record<string, unknown>) => codeOf(await put({ reason: 'x', ...json }));
    expect(await bad({ promotion: { thresholds: [{ metric: 'accuracy', maxDrop: -0.1 }] } })).toEqual({ status: 422, code: 'invalid_threshold' });
    expect(await bad({ promotion: { thresholds: [{ metric: 'rmse', max: 1 }] } })).toEqual({ status: 422, code: 'metric_not_for_task' });
    expect(await bad({ promotion: { approvalTimeout: 'soon' } })).toEqual({ status: 422, code: 'invalid_duration' });
    expect(await bad({ slices: ['nope'] })).toEqual({ status: 422, code: 'unknown_slice_column' });
    expect(await bad({ rollout: { strategy: 'canary', steps: [{ weight: 10, bakeSeconds: 1 }, { weight: 100, bakeSeconds: 0 }] } })).toEqual({ status: 422, code: 'rollout_gates_required' });
    expect(await codeOf(await put({ promotion: policy.promotion }))).toEqual({ status: 422, code: 'invalid_request' });
    expect(await read()).toMatchObject({ version: 1 });
  });

  it('PUT stores a new version, audited with who and why; the same policy again makes none; history lists them newest first', async () => {
    const canary = { strategy: 'canary', steps: [{ weight: 20, bakeSeconds: 60 }, { weight: 100, bakeSeconds: 0 }], gates: { errorRate: 0.01 } };
    const res = await put({ promotion: { thresholds: [{ metric: 'accuracy', maxDrop: 0.02 }], requireApproval: true, approvalTimeout: '2d' }, rollout: canary, reason: 'approval from now on' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ model: 'churn', scope: 'model', version: 2, changed: true });
    // What GET shows goes back through PUT unchanged: no new version.
    const shown = await read();
    expect(shown).toMatchObject({ version: 2, policy: { promotion: { requireApproval: true, approvalTimeout: '2d' }, rollout: canary, slices: [], fairness: null } });
    const again = await put({ ...shown.policy, reason: 'same again' });
    expect(await again.json()).toMatchObject({ version: 2, changed: false });

    const history = (await (await t.request('GET', '/v1/models/churn/policy/history', { key: viewer })).json()) as { history: { version: number; changedBy: string; reason: string }[] };
    expect(history.history.map((h) => [h.version, h.reason])).toEqual([
      [2, 'approval from now on'],
      [1, `set by pipeline ${firstPipeline}`],
    ]);
    expect(history.history[0]!.changedBy).not.toBe(history.history[1]!.changedBy);

    const [model] = await t.database.db.select().from(models).where(and(eq(models.projectId, t.projectId), eq(models.name, 'churn')));
    const audit = await t.database.db.select().from(auditLog).where(and(eq(auditLog.action, 'model_policy.changed'), eq(auditLog.subjectId, model!.id)));
    expect(audit.map((a) => [a.actor, (a.details as { version: number; reason: string }).version, (a.details as { reason: string }).reason]).sort()).toEqual(
      history.history.map((h) => [h.changedBy, h.version, h.reason]).sort(),
    );
  });

  it("an endpoint's override wins there only, with its own versions; GET says which applied", async () => {
    const res = await put({ promotion: { requireApproval: false }, reason: 'staging-like endpoint' }, '?endpoint=churn');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ endpoint: 'churn', scope: 'endpoint', version: 1, changed: true });
    expect(await read('?endpoint=churn')).toMatchObject({ endpoint: 'churn', source: 'endpoint', version: 1, policy: { promotion: { requireApproval: false }, rollout: null } });
    expect(await read()).toMatchObject({ endpoint: null, source: 'model', version: 2, policy: { promotion: { requireApproval: true } } });
    const history = (await (await t.request('GET', '/v1/models/churn/policy/history?endpoint=churn')).json()) as { history: { version: number }[] };
    expect(history.history.map((h) => h.version)).toEqual([1]);
    expect(await codeOf(await t.request('GET', '/v1/models/churn/policy?endpoint=nope', { key: viewer }))).toEqual({ status: 404, code: 'endpoint_not_found' });
  });

  it("an admin's pipeline that sets a different policy is a change: a new version by its requester; the fields it leaves out stay", async () => {
    // An operator's may not change it (test/api/pipeline-policy.test.ts); the endpoint's override stays in force there.
    const { policy } = await pipeline({ slices: ['region'], promotion: { requireApproval: false } });
    expect(policy).toMatchObject({ follows: { source: 'endpoint', version: 1 }, stored: { version: 3, changed: true } });
    expect(await read()).toMatchObject({ version: 3, policy: { slices: ['region'], promotion: { requireApproval: false }, rollout: { strategy: 'canary' } } });
    const history = (await (await t.request('GET', '/v1/models/churn/policy/history')).json()) as { history: { version: number; changedBy: string; reason: string }[] };
    expect(history.history[0]).toMatchObject({ version: 3, reason: expect.stringMatching(/^set by pipeline pipeline-churn-/) as unknown });
    expect(history.history[0]!.changedBy).toBe(history.history.find((h) => h.version === 2)!.changedBy);
  });
});
