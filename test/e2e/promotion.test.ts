import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAliasHistory } from '../../db/queries/aliases';
import { models } from '../../db/schema';
import { recordHistory } from '../support/record-history';
import { churnRows, toCsv } from '../support/synthetic-data';
import { startTestFactory, waitForWorkflow, type TestFactory } from '../support/test-factory';

interface PipelineProgress {
  stage: string;
  rejection?: string | null;
  promotion?: { workflowId: string; state: string; waitingSince: string | null; decision: { decision: string; by: string } | null } | null;
}

/** For the approval cases: on this near-separable table a candidate may trail the champion by a held-out row, which the default policy would not bless. */
const ANY_QUALITY = [{ metric: 'accuracy', maxDrop: 1 }];

/** The pipeline's promotion stage end to end: first model, a better one behind an approval, rejections, a timeout, a failed floor. */
describe('pipeline promotion: no model reaches production unexamined', () => {
  let t: TestFactory;
  let approverKey: string;
  let modelId: string;

  beforeAll(async () => {
    t = await startTestFactory({ activityTimeouts: { heartbeatTimeoutMs: 3000 } });
    approverKey = await t.createKey('approver');
    expect((await t.request('POST', '/v1/datasets/churn/versions?wait=true', { body: toCsv(churnRows(400)), contentType: 'text/csv' })).status).toBe(201);
  });
  afterAll(async () => {
    await t?.stop();
  });

  const run = async (model: Record<string, unknown>, promotion: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const start = await t.request('POST', '/v1/pipelines', {
      json: { dataset: 'churn', target: 'churned', model: { type: 'logistic', learningRate: 0.1, ...model }, endpoint: 'churn', promotion, ...extra },
    });
    expect(start.status).toBe(202);
    return ((await start.json()) as { workflowId: string }).workflowId;
  };
  const progressOf = async (workflowId: string) => ((await (await t.request('GET', `/v1/workflows/${workflowId}`)).json()) as { status: string; progress: PipelineProgress }).progress;
  const untilWaiting = async (workflowId: string): Promise<PipelineProgress> => {
    for (let i = 0; i < 400; i++) {
      const progress = await progressOf(workflowId);
      if (progress.stage === 'promote' && progress.promotion?.state === 'waiting_for_approval') return progress;
      if (['done', 'rejected', 'failed'].includes(progress.stage)) throw new Error(`pipeline ended in ${progress.stage} before waiting: ${progress.rejection ?? ''}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error('pipeline never waited for approval');
  };
  const decide = (workflowId: string, json: unknown, key = approverKey) => t.request('POST', `/v1/workflows/${workflowId}/approval`, { json, key });
  const served = async () =>
    ((await (await t.request('POST', '/v1/endpoints/churn/predict', { json: { records: [{ tenure: 3, spend: 150, noise: 0 }] } })).json()) as { modelVersion: { version: number } })
      .modelVersion.version;
  const productionHistory = async () => {
    if (!modelId) modelId = (await t.database.db.select().from(models).where(and(eq(models.projectId, t.projectId), eq(models.name, 'churn'))))[0]?.id ?? '';
    return listAliasHistory(t.database.db, modelId, 'production');
  };

  it('first model, no champion: blessed, promoted without approval, deployed', async () => {
    const workflowId = await run({ epochs: 5 }, { requireApproval: false });
    const final = await waitForWorkflow(t, workflowId);
    expect(final.status).toBe('COMPLETED');
    expect(final.result).toMatchObject({ stage: 'done', modelVersion: { version: 1 }, promotion: { promoted: true, fromVersionId: null } });
    const history = await productionHistory();
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ fromVersionId: null, workflowId: expect.stringMatching(/^promote-churn-production-/) as unknown });
    expect(await served()).toBe(1);
    await recordHistory(workflowId, 'factory-pipeline-promotion.json');

    const late = await decide(workflowId, { decision: 'approve', reason: 'late' });
    expect([late.status, ((await late.json()) as { error: { code: string } }).error.code]).toEqual([409, 'not_waiting_for_approval']);
  });

  it('a candidate behind an approval: waits, refuses its own requester, approved by an approver, promoted and served', async () => {
    const workflowId = await run({ epochs: 30 }, { requireApproval: true, approvalTimeout: '10m', thresholds: ANY_QUALITY });
    const waiting = await untilWaiting(workflowId);
    expect(waiting.promotion?.waitingSince).toEqual(expect.any(String));
    expect(await served()).toBe(1);

    const own = await decide(workflowId, { decision: 'approve', reason: 'mine' }, t.adminKey);
    expect([own.status, ((await own.json()) as { error: { code: string } }).error.code]).toEqual([403, 'cannot_approve_own_model']);
    const approved = await decide(workflowId, { decision: 'approve', reason: 'better on the holdout' });
    expect(approved.status).toBe(200);
    expect(await approved.json()).toMatchObject({ workflowId, promotionWorkflowId: waiting.promotion?.workflowId, decision: { decision: 'approved', reason: 'better on the holdout' } });

    const final = await waitForWorkflow(t, workflowId);
    expect(final.result).toMatchObject({ stage: 'done', modelVersion: { version: 2 }, promotion: { promoted: true } });
    expect(final.progress).toMatchObject({ stage: 'done', promotion: { state: 'promoted', decision: { decision: 'approved' } } });
    const [move] = await productionHistory();
    expect(move?.reason).toContain('better on the holdout');
    expect(await served()).toBe(2);
    await recordHistory(workflowId, 'factory-pipeline-approval.json');
    await recordHistory(workflowId, 'factory-pipeline-approval-infra-validated.json');
  });

  it('approval required → rejected: the pipeline stops rejected with the reason, production and serving unchanged', async () => {
    const workflowId = await run({ epochs: 5, seed: 7 }, { requireApproval: true, thresholds: ANY_QUALITY });
    await untilWaiting(workflowId);
    expect((await decide(workflowId, { decision: 'reject', reason: 'drifted segment' })).status).toBe(200);
    const final = await waitForWorkflow(t, workflowId);
    expect(final.result).toMatchObject({ stage: 'rejected', deployment: null, promotion: { promoted: false }, rejection: expect.stringContaining('drifted segment') as unknown });
    expect((final.progress as PipelineProgress).rejection).toMatch(/^approval rejected by key_/);
    expect(await productionHistory()).toHaveLength(2);
    expect(await served()).toBe(2);
  });

  it('approval timeout → rejected', async () => {
    const workflowId = await run({ epochs: 5, seed: 8 }, { requireApproval: true, approvalTimeout: '2s', thresholds: ANY_QUALITY });
    const final = await waitForWorkflow(t, workflowId);
    expect(final.result).toMatchObject({ stage: 'rejected', promotion: { promoted: false, decision: { by: 'timeout' } } });
    expect((final.progress as PipelineProgress).rejection).toMatch(/^approval timed out/);
    expect(await productionHistory()).toHaveLength(2);
  });

  it('a worse candidate is stopped before promotion with the failing threshold named', async () => {
    // Scored against the production version on the same held-out rows: a barely trained candidate falls short.
    const thresholds = [
      { metric: 'accuracy', maxDrop: 0.01 },
      { metric: 'roc_auc', min: 0.5 },
    ];
    const workflowId = await run({ epochs: 1, learningRate: 0.0001, seed: 9 }, { requireApproval: true, thresholds });
    const final = await waitForWorkflow(t, workflowId);
    expect(final.result).toMatchObject({ stage: 'rejected', deployment: null });
    expect((final.progress as PipelineProgress).rejection).toMatch(/^not blessed: accuracy fell by [0-9.]+ against the champion v2 \([0-9.]+ → [0-9.]+, maxDrop 0\.0100\)/);
    expect(await productionHistory()).toHaveLength(2);
  });

  it('a promotion of production already running: the pipeline fails in its promote stage and says which workflow holds the alias', async () => {
    const operatorKey = await t.createKey('operator');
    const hold = await t.request('POST', '/v1/models/churn/aliases/production', { json: { version: 1, reason: 'hold', requireApproval: true }, key: operatorKey });
    expect(hold.status).toBe(202);
    const { workflowId: holding } = (await hold.json()) as { workflowId: string };
    const workflowId = await run({ epochs: 5, seed: 10 }, { requireApproval: false, thresholds: ANY_QUALITY });
    const final = await waitForWorkflow(t, workflowId);
    expect(final.status).toBe('FAILED');
    expect(final.progress).toMatchObject({ stage: 'failed', error: expect.stringContaining(`promote: another promotion of churn's production alias (workflow ${holding})`) as unknown });
    expect((await decide(holding, { decision: 'reject', reason: 'was only holding' }, t.adminKey)).status).toBe(200);
    expect((await waitForWorkflow(t, holding)).result).toMatchObject({ promoted: false });
  });
});
