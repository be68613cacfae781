import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimRetrain } from '../../db/queries/retrains';
import { modelVersions, trainingRuns } from '../../db/schema';
import { retrainWorkflowId } from '../../domain/retrain-episode';
import type { MonitorEndpointResult } from '../../domain/monitoring';
import { recordHistory } from '../support/record-history';
import { doubledSpend, listRetrains, serveLabelled } from '../support/labelled-traffic';
import { churnRows, toCsv } from '../support/synthetic-data';
import { startTestFactory, waitForWorkflow, type TestFactory } from '../support/test-factory';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Issue 9's second end-to-end test: the same drift alarm many times at once starts one retrain; a new episode starts another. */
describe('retraining on drift, exactly once', () => {
  let t: TestFactory;
  /** Three windows of traffic served by v1: drifted, calm, drifted again. */
  const windows: { from: string; to: string }[] = [];

  beforeAll(async () => {
    t = await startTestFactory({ activityTimeouts: { heartbeatTimeoutMs: 3000 } });
    expect((await t.request('POST', '/v1/datasets/churn/versions?wait=true', { body: toCsv(churnRows(1500, 'train-a')), contentType: 'text/csv' })).status).toBe(201);
    const start = await t.request('POST', '/v1/pipelines', { json: { dataset: 'churn', target: 'churned', model: { type: 'logistic', epochs: 10, learningRate: 0.1 }, endpoint: 'churn' } });
    expect(start.status).toBe(202);
    expect((await waitForWorkflow(t, ((await start.json()) as { workflowId: string }).workflowId)).status).toBe('COMPLETED');
    for (const [i, rows] of [doubledSpend(churnRows(400, 'b1')), churnRows(400, 'a2'), doubledSpend(churnRows(400, 'b3'))].entries()) {
      const from = new Date().toISOString();
      await sleep(5);
      await serveLabelled(t, 'churn', rows, 200);
      await sleep(5);
      windows[i] = { from, to: new Date().toISOString() };
    }
    const put = await t.request('PUT', '/v1/endpoints/churn/monitoring', { json: { retrain: { enabled: true, model: { type: 'logistic', epochs: 10, learningRate: 0.1 } } } });
    expect(put.status).toBe(200);
  });
  afterAll(async () => {
    await t?.stop();
  });

  async function monitor(window: { from: string; to: string }, history?: string): Promise<{ workflowId: string; result: MonitorEndpointResult }> {
    const res = await t.request('POST', '/v1/endpoints/churn/monitor', { json: window });
    expect([200, 202]).toContain(res.status);
    const { workflowId } = (await res.json()) as { workflowId: string };
    const done = await waitForWorkflow(t, workflowId);
    expect(done.status).toBe('COMPLETED');
    if (history) await recordHistory(workflowId, history);
    return { workflowId, result: done.result as unknown as MonitorEndpointResult };
  }

  const retrains = () => listRetrains(t, 'churn');

  /** retrainEndpoint executions of this project in visibility (eventually consistent: polled until it shows `expected`). */
  async function retrainExecutions(expected: number): Promise<string[]> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ids: string[] = [];
      for await (const w of t.factory.client.workflow.list({ query: `WorkflowType = 'retrainEndpoint' AND FactoryProject = '${t.projectId}'` })) ids.push(w.workflowId);
      if (ids.length >= expected || Date.now() > deadline) return ids;
      await sleep(200);
    }
  }

  it('ten alarms of one drift episode at once (five windows, five identical requests) start one retrain, which trains on the new dataset version and deploys', async () => {
    const w = windows[0]!;
    // Five monitors over different (overlapping) windows of the same drifted traffic, and five requests for one window.
    const varied = [0, 1, 2, 3, 4].map((ms) => ({ from: new Date(Date.parse(w.from) - ms).toISOString(), to: w.to }));
    const runs = await Promise.all([...varied, ...varied.map(() => varied[0]!)].map((window) => monitor(window)));
    const asked = [...new Map(runs.map((r) => [r.workflowId, r.result])).values()].flatMap((r) => r.retrains ?? []);
    expect(asked).toHaveLength(5);
    expect(asked.filter((r) => r.outcome === 'started')).toHaveLength(1);
    expect(asked.filter((r) => r.outcome === 'claimed_before')).toHaveLength(4);
    const retrainId = asked[0]!.workflowId!;
    expect(new Set(asked.map((r) => r.workflowId))).toEqual(new Set([retrainId]));
    expect(asked[0]!.episode).toMatch(/:first$/);

    const claims = await retrains();
    expect(claims).toHaveLength(1);
    expect(claims[0]).toMatchObject({ workflowId: retrainId, trigger: { kind: 'drift' } });
    expect(['running', 'succeeded']).toContain(claims[0]!.status);
    expect(await retrainExecutions(1)).toEqual([retrainId]);

    const done = await waitForWorkflow(t, retrainId);
    expect(done.status, JSON.stringify(done)).toBe('COMPLETED');
    await recordHistory(retrainId, 'retrain-endpoint-drift.json');
    const [claim] = await retrains();
    expect(claim).toMatchObject({ status: 'succeeded', pipelineWorkflowId: `${retrainId}/pipeline`, outcome: { pipelineStage: 'done', modelVersion: { version: 2 } } });
    expect(claim!.outcome!.dataset!.feedbackRows).toBeGreaterThan(0);
    // The retrain's pipeline trained on the dataset version the retrain built.
    const [run] = await t.database.db.select().from(trainingRuns).where(eq(trainingRuns.workflowId, `${retrainId}/pipeline/train`));
    expect(run?.datasetVersionId).toBe(claim!.datasetVersionId);
    const endpoint = (await (await t.request('GET', '/v1/endpoints/churn')).json()) as { stable?: { version?: number } };
    expect(JSON.stringify(endpoint)).toContain(claim!.modelVersionId!);
  });

  it('an alarm of the handled episode after the retrain finished starts nothing; a calm window then drift again is a new episode, whose claim left by a crashed starter is started by the next alarm', async () => {
    const [first] = await retrains();
    const late = await monitor({ from: new Date(Date.parse(windows[0]!.from) - 10).toISOString(), to: windows[0]!.to });
    expect(late.result.retrains).toMatchObject([{ outcome: 'claimed_before', workflowId: first!.workflowId }]);
    expect(await retrains()).toHaveLength(1);
    expect(await retrainExecutions(1)).toEqual([first!.workflowId]);

    const calm = await monitor(windows[1]!);
    expect(calm.result).toMatchObject({ drifted: false });
    expect(calm.result.retrains).toEqual([]);
    // A monitor claimed the new episode and crashed before it started the retrain: the claim row is all there is.
    const v1 = calm.result.reports[0]!.modelVersionId;
    const episode = `${v1}:${calm.result.reports[0]!.id}`;
    const [model] = await t.database.db.select({ modelId: modelVersions.modelId }).from(modelVersions).where(eq(modelVersions.id, v1));
    const crashed = await claimRetrain(t.database.db, {
      projectId: t.projectId,
      endpointId: calm.result.endpointId,
      modelId: model!.modelId,
      episode,
      workflowId: retrainWorkflowId(model!.modelId, episode),
      trigger: { kind: 'drift', monitorWorkflowId: 'monitor-that-crashed', reportIds: ['drift_crashed'], modelVersionId: v1, window: windows[2]!, reasons: ['crashed'] },
    });
    expect(crashed.kind).toBe('claimed');
    expect(await retrainExecutions(2)).toEqual([first!.workflowId]);

    const again = await monitor(windows[2]!, 'monitor-endpoint-retrain.json');
    const [asked] = again.result.retrains ?? [];
    expect(asked).toMatchObject({ outcome: 'claimed_before', episode, workflowId: crashed.run.workflowId });
    expect(asked!.workflowId).not.toBe(first!.workflowId);
    expect((await retrainExecutions(2)).sort()).toEqual([first!.workflowId, asked!.workflowId].sort());
    const done = await waitForWorkflow(t, asked!.workflowId!);
    expect(done.status, JSON.stringify(done)).toBe('COMPLETED');
    expect(done.result).toMatchObject({ status: 'succeeded', episode });
    const claims = await retrains();
    expect(claims.map((c) => c.status)).toEqual(['succeeded', 'succeeded']);
    expect(claims[0]).toMatchObject({ workflowId: asked!.workflowId, outcome: { modelVersion: { version: 3 } } });
  });

  it('a manual retrain: 202 with its workflow id; two at once run one retrain (the other is refused or skipped); viewers may list, not start', async () => {
    const viewer = await t.createKey('viewer');
    expect((await t.request('POST', '/v1/endpoints/churn/retrain', { key: viewer })).status).toBe(403);
    expect((await t.request('GET', '/v1/endpoints/churn/retrains', { key: viewer })).status).toBe(200);
    expect((await t.request('POST', '/v1/endpoints/nope/retrain')).status).toBe(404);

    // A manual retrain learns from what was labelled since the stable version went live.
    await serveLabelled(t, 'churn', doubledSpend(churnRows(200, 'b4')), 200);
    const answers = await Promise.all([t.request('POST', '/v1/endpoints/churn/retrain'), t.request('POST', '/v1/endpoints/churn/retrain')]);
    const started: string[] = [];
    for (const res of answers) {
      const body = (await res.json()) as { workflowId?: string; error?: { code: string } };
      if (res.status === 202) started.push(body.workflowId!);
      else expect({ status: res.status, code: body.error?.code }).toEqual({ status: 409, code: 'retrain_running' });
    }
    expect(started.length).toBeGreaterThan(0);
    const results = await Promise.all(started.map((id) => waitForWorkflow(t, id)));
    for (const r of results) expect(r.status, JSON.stringify(r)).toBe('COMPLETED');
    const manual = (await retrains()).filter((c) => c.trigger.kind === 'manual');
    expect(manual.filter((c) => c.status === 'succeeded')).toHaveLength(1);
    expect(manual.filter((c) => c.status !== 'succeeded').map((c) => c.status)).toEqual(started.length === 2 ? ['skipped'] : []);
    expect(manual.find((c) => c.status === 'succeeded')!.episode).toMatch(/^manual:retrain-churn-manual-/);
  });
});
