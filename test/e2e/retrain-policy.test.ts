import { status as grpcStatus } from '@grpc/grpc-js';
import { isGrpcServiceError, WorkflowNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordHistory } from '../support/record-history';
import { serveLabelled } from '../support/labelled-traffic';
import { churnRows, toCsv } from '../support/synthetic-data';
import { startTestFactory, waitForWorkflow, type TestFactory, type WorkflowStatusBody } from '../support/test-factory';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface PipelineProgress {
  stage: string;
  promotion?: { state: string } | null;
}
interface RetrainProgress {
  stage: string;
  pipelineWorkflowId: string | null;
  policy?: { source: string; version: number | null } | null;
}
interface EndpointView {
  stable: { version: number } | null;
  canary: { version: number; weight: number } | null;
  events: { kind: string; trafficWeight: number; toVersion: { version: number } | null }[];
}

/**
 * Issue 15's "a retrain a month later": the policy a pipeline set (approval, canary) is stored with the model, so a
 * retrain after Temporal dropped the base pipeline's history (deleted here) still waits for approval and still canaries.
 */
describe('a retrain after the base pipeline history is gone keeps its policy', () => {
  let t: TestFactory;
  let approver: string;
  let basePipeline: string;

  const statusOf = async <P>(id: string) => (await (await t.request('GET', `/v1/workflows/${encodeURIComponent(id)}`)).json()) as WorkflowStatusBody & { progress?: P };
  const show = async () => (await (await t.request('GET', '/v1/endpoints/churn')).json()) as EndpointView;
  const approve = async (workflowId: string) => {
    const res = await t.request('POST', `/v1/workflows/${encodeURIComponent(workflowId)}/approval`, { json: { decision: 'approve', reason: 'looks right' }, key: approver });
    expect(res.status, await res.clone().text()).toBe(200);
  };
  /** Polls a pipeline until it waits for approval; fails if it ends first (today's retrain deployed without asking). */
  const untilWaiting = async (workflowId: string) => {
    for (let i = 0; i < 600; i++) {
      const body = await statusOf<PipelineProgress>(workflowId);
      // Not started yet: the retrain starts its pipeline once the dataset is built.
      if (body.status === undefined) {
        await sleep(200);
        continue;
      }
      if (body.progress?.promotion?.state === 'waiting_for_approval') return body.progress;
      if (body.status !== 'RUNNING' || ['done', 'rejected', 'failed'].includes(body.progress?.stage ?? '')) {
        throw new Error(`pipeline ${workflowId} ended ${body.progress?.stage ?? body.status} without waiting for approval`);
      }
      await sleep(200);
    }
    throw new Error(`pipeline ${workflowId} never waited for approval`);
  };

  beforeAll(async () => {
    t = await startTestFactory({ activityTimeouts: { heartbeatTimeoutMs: 3000 } });
    approver = await t.createKey('approver');
    expect((await t.request('POST', '/v1/datasets/churn/versions?wait=true', { body: toCsv(churnRows(300)), contentType: 'text/csv' })).status).toBe(201);
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('the base pipeline asks for approval and a canary: approved by another principal, v1 deployed, the policy stored', async () => {
    const res = await t.request('POST', '/v1/pipelines', {
      json: {
        dataset: 'churn',
        target: 'churned',
        model: { type: 'logistic', epochs: 10, learningRate: 0.1, seed: 1 },
        endpoint: 'churn',
        // maxDrop 0.5: the retrain learns from shifted production rows and may trail v1 by a held-out row; this test is about its policy.
        promotion: { thresholds: [{ metric: 'accuracy', min: 0.6 }, { metric: 'accuracy', maxDrop: 0.5 }], requireApproval: true, approvalTimeout: '10m' },
        rollout: { strategy: 'canary', steps: [{ weight: 50, bakeSeconds: 3 }, { weight: 100, bakeSeconds: 0 }], gates: { errorRate: 0.5 } },
      },
    });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { workflowId: string; policy: { stored: { version: number } } };
    expect(body.policy).toMatchObject({ stored: { version: 1, changed: true } });
    basePipeline = body.workflowId;
    await untilWaiting(basePipeline);
    await approve(basePipeline);
    const done = await waitForWorkflow(t, basePipeline);
    expect(done.result).toMatchObject({ stage: 'done', modelVersion: { version: 1 } });
    expect((await show()).stable).toMatchObject({ version: 1 });
    const policy = (await (await t.request('GET', '/v1/models/churn/policy?endpoint=churn')).json()) as { source: string; version: number; policy: { promotion: { requireApproval: boolean } } };
    expect(policy).toMatchObject({ source: 'model', version: 1, policy: { promotion: { requireApproval: true } } });
  });

  it("Temporal's retention drops the base pipeline and its children: their executions are deleted and really gone", async () => {
    const { client } = t.factory;
    const ids = new Set([basePipeline, `${basePipeline}/train`]);
    for await (const w of client.workflow.list({ query: `FactoryProject = '${t.projectId}'` })) {
      if (w.workflowId.startsWith(`${basePipeline}/`) || w.workflowId.startsWith('promote-churn-')) ids.add(w.workflowId);
    }
    console.log(`deleting the base pipeline's executions: ${[...ids].join(', ')}`);
    expect(ids.size).toBeGreaterThan(3);
    const remove = (workflowId: string) => client.workflowService.deleteWorkflowExecution({ namespace: client.options.namespace, workflowExecution: { workflowId } });
    const gone = async (workflowId: string) => {
      try {
        await client.workflow.getHandle(workflowId).fetchHistory();
        return false;
      } catch (err) {
        // The history call answers a bare NOT_FOUND once the execution is deleted.
        if (err instanceof WorkflowNotFoundError || (isGrpcServiceError(err) && err.code === grpcStatus.NOT_FOUND)) return true;
        throw err;
      }
    };
    await Promise.all(
      [...ids].map(async (workflowId) => {
        await remove(workflowId);
        const deadline = Date.now() + 60_000;
        while (!(await gone(workflowId))) {
          if (Date.now() > deadline) throw new Error(`${workflowId} was not deleted`);
          await sleep(500);
          // A delete asked for while the server still processes the execution's close can be dropped: ask again.
          await remove(workflowId).catch(() => undefined);
        }
      }),
    );
  });

  it('a manual retrain still waits for approval, and once approved still canaries under the stored gates', async () => {
    await serveLabelled(t, 'churn', churnRows(100, 'production'), 100);
    const res = await t.request('POST', '/v1/endpoints/churn/retrain');
    expect(res.status).toBe(202);
    const { workflowId: retrainId } = (await res.json()) as { workflowId: string };

    let pipelineId: string | null = null;
    for (let i = 0; !pipelineId; i++) {
      const body = await statusOf<RetrainProgress>(retrainId);
      if (body.status !== 'RUNNING') throw new Error(`retrain ended ${body.status}: ${JSON.stringify(body.error ?? body.result)}`);
      pipelineId = body.progress?.pipelineWorkflowId ?? null;
      if (i > 600) throw new Error('the retrain never started its pipeline');
      await sleep(100);
    }
    await untilWaiting(pipelineId);
    expect((await statusOf<RetrainProgress>(retrainId)).progress?.policy).toEqual({ source: 'model', version: 1 });
    // Nothing moved while it waits.
    expect(await show()).toMatchObject({ stable: { version: 1 }, canary: null });
    await approve(pipelineId);

    // Traffic keeps flowing while the canary bakes, so its gates have readings.
    const weights = new Set<number>();
    const deadline = Date.now() + 120_000;
    let end: WorkflowStatusBody | undefined;
    for (let i = 0; !end; i++) {
      await t.request('POST', '/v1/endpoints/churn/predict', { json: { records: [{ tenure: i % 60, spend: (i * 7) % 200, noise: 0 }] } });
      if (i % 10 === 0) {
        const canary = (await show()).canary;
        if (canary) weights.add(canary.weight);
        const body = await statusOf<RetrainProgress>(retrainId);
        if (body.status !== 'RUNNING') end = body;
        if (Date.now() > deadline) throw new Error(`retrain ${retrainId} still running: ${JSON.stringify(body.progress)}`);
      }
    }
    expect(end.status, JSON.stringify(end.error)).toBe('COMPLETED');
    expect(end.result).toMatchObject({ status: 'succeeded', outcome: { pipelineStage: 'done', modelVersion: { version: 2 }, policy: { source: 'model', version: 1 } } });
    const pipeline = await waitForWorkflow(t, pipelineId);
    expect(pipeline.result).toMatchObject({ stage: 'done', promotion: { promoted: true }, rollout: { strategy: 'canary', requested: 'canary', status: 'succeeded', steps: 2 } });
    // The stored gate was read on the canary's traffic.
    const gates = (pipeline.result as { rollout: { gates: { gate: string; threshold: number; samples: number; passed: boolean }[] } }).rollout.gates;
    expect(gates.find((g) => g.gate === 'errorRate')).toMatchObject({ threshold: 0.5, passed: true });
    expect(gates.find((g) => g.gate === 'errorRate')?.samples).toBeGreaterThan(0);
    const endpoint = await show();
    expect(endpoint.stable).toMatchObject({ version: 2 });
    expect(endpoint.events.filter((e) => e.toVersion?.version === 2).map((e) => [e.kind, e.trafficWeight])).toEqual([
      ['promote', 100],
      ['canary', 50],
    ]);
    await recordHistory(retrainId, 'retrain-endpoint-stored-policy.json');
  }, 180_000);
});
