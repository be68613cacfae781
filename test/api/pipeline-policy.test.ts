import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followStoredPolicy } from '../../api/model-policy-request';
import type { ColumnSchema } from '../../domain/dataset';
import { EMPTY_MODEL_POLICY } from '../../domain/model-policy';
import { churnRows } from '../support/synthetic-data';
import { startTestFactory, waitForWorkflow, type TestFactory } from '../support/test-factory';

interface PipelineAnswer {
  workflowId: string;
  policy: { model: string; follows: { source: string; version: number | null }; stored: { version: number; changed: boolean } | null; fromStored: string[]; notApplied: unknown[] };
}
interface PipelineProgress {
  stage: string;
  error?: string | null;
  rejection?: string | null;
  promotion?: { state: string } | null;
}
interface ErrorBody {
  error: { code: string; message: string; fields?: string };
}

/** The churn rows with a region (a string column to slice by). */
const csv = ['tenure,spend,noise,region,churned', ...churnRows(200).map((r, i) => `${r.tenure},${r.spend},${r.noise},${i % 2 ? 'north' : 'south'},${r.churned}`)].join('\n') + '\n';

const approval = { thresholds: [{ metric: 'accuracy', maxDrop: 1 }], requireApproval: true, approvalTimeout: '10m' };
// No traffic reaches the canary in this test: each step goes on without data, and says so.
const canary = {
  strategy: 'canary',
  steps: [
    { weight: 30, bakeSeconds: 1 },
    { weight: 100, bakeSeconds: 0 },
  ],
  gates: { errorRate: 0.5, gateIntervalSeconds: 1, maxBakeExtensionSeconds: 1, onInsufficientTraffic: 'promote' },
};

/** POST /v1/pipelines under a stored policy: the fields a body leaves out follow it, and only an admin's pipeline changes it. */
describe('a pipeline follows the stored policy in force; only an admin changes it', () => {
  let t: TestFactory;
  let operator: string;
  let approver: string;

  const start = (extra: Record<string, unknown>, key?: string) =>
    t.request('POST', '/v1/pipelines', {
      json: { dataset: 'churn', target: 'churned', features: ['tenure', 'spend'], model: { type: 'logistic', epochs: 3, learningRate: 0.1, seed: 1 }, endpoint: 'pp', ...extra },
      key,
    });
  const accepted = async (res: Response): Promise<PipelineAnswer> => {
    expect(res.status).toBe(202);
    return (await res.json()) as PipelineAnswer;
  };
  const progressOf = async (workflowId: string) => ((await (await t.request('GET', `/v1/workflows/${workflowId}`)).json()) as { progress: PipelineProgress }).progress;
  const untilWaiting = async (workflowId: string): Promise<void> => {
    for (let i = 0; i < 400; i++) {
      const progress = await progressOf(workflowId);
      if (progress.stage === 'promote' && progress.promotion?.state === 'waiting_for_approval') return;
      if (['done', 'rejected', 'failed'].includes(progress.stage)) throw new Error(`pipeline ended in ${progress.stage} (${progress.error ?? progress.rejection ?? ''}) before waiting for approval`);
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error('pipeline never waited for approval');
  };
  const policyVersion = async () => ((await (await t.request('GET', '/v1/models/pp/policy?endpoint=pp')).json()) as { version: number }).version;

  beforeAll(async () => {
    t = await startTestFactory({ activityTimeouts: { heartbeatTimeoutMs: 3000 } });
    [operator, approver] = await Promise.all([t.createKey('operator'), t.createKey('approver')]);
    expect((await t.request('POST', '/v1/datasets/churn/versions?wait=true', { body: csv, contentType: 'text/csv' })).status).toBe(201);
  });
  afterAll(async () => {
    await t?.stop();
  });

  it("an operator's pipeline stores a policy where none is stored yet", async () => {
    const first = await accepted(await start({ slices: ['region'] }, operator));
    expect((await waitForWorkflow(t, first.workflowId)).status).toBe('COMPLETED');
    // An admin asks for approval and a canary from now on.
    const put = await t.request('PUT', '/v1/models/pp/policy', { json: { promotion: approval, rollout: canary, slices: ['region'], reason: 'approval and a canary' } });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ version: 2, changed: true });
    expect(first.policy).toEqual({ model: 'pp', follows: { source: 'model', version: 1 }, stored: { version: 1, changed: true }, fromStored: [], notApplied: [] });
  });

  it('a pipeline that leaves promotion and rollout out waits for approval and canaries, as the stored policy says', async () => {
    const run = await accepted(await start({ model: { type: 'logistic', epochs: 3, learningRate: 0.1, seed: 2 } }, operator));
    await untilWaiting(run.workflowId);
    expect((await t.request('POST', `/v1/workflows/${run.workflowId}/approval`, { json: { decision: 'approve', reason: 'looks fine' }, key: approver })).status).toBe(200);
    const end = await waitForWorkflow(t, run.workflowId);
    expect(end.result).toMatchObject({ stage: 'done', modelVersion: { version: 2 }, promotion: { promoted: true }, rollout: { strategy: 'canary', requested: 'canary', status: 'succeeded' } });
    expect(run.policy).toEqual({ model: 'pp', follows: { source: 'model', version: 2 }, stored: null, fromStored: ['promotion', 'rollout', 'slices'], notApplied: [] });
  });

  it("an operator's pipeline that would change the policy in force is refused 403 policy_change_forbidden; the same policy again is accepted", async () => {
    for (const [extra, fields] of [
      [{ promotion: { requireApproval: false } }, 'promotion'],
      [{ promotion: { ...approval, thresholds: [{ metric: 'accuracy', maxDrop: 1 }, { metric: 'accuracy', min: 0 }] } }, 'promotion'],
      [{ rollout: { strategy: 'allAtOnce' } }, 'rollout'],
      [{ promotion: { requireApproval: false }, rollout: { strategy: 'allAtOnce' } }, 'promotion,rollout'],
    ] as const) {
      const res = await start(extra, operator);
      const body = (await res.json()) as Partial<ErrorBody>;
      expect([res.status, body.error?.code, body.error?.fields]).toEqual([403, 'policy_change_forbidden', fields]);
      expect(body.error?.message).toContain('version 2 in force');
      expect(body.error?.message).toContain('PUT /v1/models/pp/policy');
      expect(body.error?.message).toMatch(/leave [a-z, ]+ out to follow version 2/);
    }
    expect(await policyVersion()).toBe(2);

    // Sending the policy in force (as GET shows it) changes nothing, so an operator may: a retried request passes.
    const same = await accepted(await start({ promotion: approval, rollout: canary, model: { type: 'logistic', epochs: 3, learningRate: 0.1, seed: 3 } }, operator));
    expect(same.policy).toMatchObject({ follows: { source: 'model', version: 2 }, stored: null, fromStored: ['slices'] });
    await untilWaiting(same.workflowId);
    expect((await t.request('POST', `/v1/workflows/${same.workflowId}/approval`, { json: { decision: 'reject', reason: 'not needed' }, key: approver })).status).toBe(200);
    expect((await waitForWorkflow(t, same.workflowId)).result).toMatchObject({ stage: 'rejected' });
  });

  it("an admin's pipeline may change it: a new version, audited with the admin's key, and the run follows it", async () => {
    const run = await accepted(await start({ promotion: { thresholds: [{ metric: 'accuracy', maxDrop: 1 }], requireApproval: false }, model: { type: 'logistic', epochs: 3, learningRate: 0.1, seed: 4 } }));
    const end = await waitForWorkflow(t, run.workflowId);
    expect(end.result).toMatchObject({ stage: 'done', promotion: { promoted: true }, rollout: { strategy: 'canary', status: 'succeeded' } });
    expect(run.policy).toEqual({ model: 'pp', follows: { source: 'model', version: 3 }, stored: { version: 3, changed: true }, fromStored: ['rollout', 'slices'], notApplied: [] });
    const history = (await (await t.request('GET', '/v1/models/pp/policy/history')).json()) as { history: { version: number; changedBy: string; reason: string }[] };
    expect(history.history[0]).toMatchObject({ version: 3, reason: `set by pipeline ${run.workflowId}` });
    expect(history.history[0]!.changedBy).not.toBe(history.history.find((h) => h.version === 1)!.changedBy);
  });
});

/** The stored policy a pipeline follows on its own dataset version: what applies, what does not and why. */
describe('followStoredPolicy', () => {
  const schema: ColumnSchema[] = [
    { name: 'tenure', type: 'number' },
    { name: 'region', type: 'string' },
    { name: 'churned', type: 'string' },
  ] as ColumnSchema[];
  const classification = { schema, task: { task: 'classification' as const, reason: '' } };
  const stored = {
    ...EMPTY_MODEL_POLICY,
    promotion: { thresholds: [], requireApproval: true, approvalTimeoutMs: 60_000 },
    slices: ['region', 'plan'],
    fairness: { sensitive: 'sex' },
  };

  it('fills promotion and rollout, keeps the slice columns this dataset has, and names what it left out', () => {
    const followed = followStoredPolicy({}, stored, classification);
    expect(followed.fields).toEqual({ promotion: stored.promotion, slices: ['region'] });
    expect(followed.fromStored).toEqual(['promotion', 'slices']);
    expect(followed.notApplied).toEqual([
      { field: 'slices', reason: expect.stringContaining('"plan"') as unknown },
      { field: 'fairness', reason: expect.stringContaining('"sex"') as unknown },
    ]);
  });

  it('what the body sets wins and is not followed; fairness does not apply to regression', () => {
    const withRegion = { ...stored, slices: ['region'], fairness: { sensitive: 'region' } };
    const followed = followStoredPolicy({ promotion: { thresholds: [], requireApproval: false, approvalTimeoutMs: 1 } }, withRegion, { schema, task: { task: 'regression', reason: '' } });
    expect(followed.fields).toEqual({ promotion: { thresholds: [], requireApproval: false, approvalTimeoutMs: 1 }, slices: ['region'] });
    expect(followed.fromStored).toEqual(['slices']);
    expect(followed.notApplied).toEqual([{ field: 'fairness', reason: expect.stringContaining('regression') as unknown }]);
  });
});
