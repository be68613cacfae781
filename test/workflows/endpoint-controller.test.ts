import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpointEvents, endpoints } from '../../db/schema';
import { exportOnnx } from '../../ml/onnx-export';
import { endpointController } from '../../workflows';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { deployUpdate, endpointControllerWorkflowId, endpointStatusQuery, factorySearchAttributes, pipelineRolloutId, RolloutRefusal, rolloutOutcomeUpdate, type EndpointControllerInput } from '../../workflows/contracts';
import { goodClassifier } from '../support/onnx-graphs';
import { recordHistory } from '../support/record-history';
import { registerOnnxVersion } from '../support/register-version';
import { churnRows, toCsv } from '../support/synthetic-data';
import { startTestFactory, waitForWorkflow, type TestFactory } from '../support/test-factory';

describe('endpointController workflow', () => {
  let t: TestFactory;

  beforeAll(async () => {
    t = await startTestFactory();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('continues as new at its history bound and carries stable, last-good versions and history across runs', async () => {
    const a = await registerOnnxVersion(t, 'cycle', exportOnnx(goodClassifier(0.1)));
    const b = await registerOnnxVersion(t, 'cycle', exportOnnx(goodClassifier(0.2)));
    const input: EndpointControllerInput = { projectId: t.projectId, endpointName: 'cycle', maxHistoryEvents: 40 };
    const workflowId = endpointControllerWorkflowId(t.projectId, 'cycle');
    const handle = await t.factory.client.workflow.start(endpointController, {
      workflowId,
      taskQueue: t.taskQueues.cpu,
      args: [input],
      memo: { projectId: t.projectId },
      typedSearchAttributes: factorySearchAttributes({ projectId: t.projectId, endpoint: 'cycle' }),
    });
    const deploys = 8;
    for (let i = 0; i < deploys; i++) {
      const to = i % 2 === 0 ? a : b;
      const accepted = await t.factory.client.workflow.getHandle(workflowId).executeUpdate(deployUpdate, {
        args: [{ rolloutId: `r${i}`, candidate: { versionId: to.versionId, model: 'cycle', version: to.version }, strategy: { type: 'allAtOnce' }, reason: `deploy ${i}`, requestedBy: 'test', waitForFirstStep: true }],
      });
      expect(accepted.rolloutId).toBe(`r${i}`);
      expect(['running', 'succeeded']).toContain(accepted.status);
      await waitUntil(async () => (await t.factory.client.workflow.getHandle(workflowId).query(endpointStatusQuery)).rollout?.status === 'succeeded');
    }
    // Eight deploys need well over 40 events: the controller continues as new at least once. It may decide so in the
    // task that finished the last rollout, which the status query can answer before that task's commands are applied.
    await waitUntil(async () => (await t.factory.client.workflow.getHandle(workflowId).describe()).runId !== handle.firstExecutionRunId);
    const described = await t.factory.client.workflow.getHandle(workflowId).describe();
    expect(described.runId).not.toBe(handle.firstExecutionRunId);
    expect(described.status.name).toBe('RUNNING');
    const state = await t.factory.client.workflow.getHandle(workflowId).query(endpointStatusQuery);
    expect(state.stable).toMatchObject({ versionId: b.versionId });
    expect(state.lastGood[0]).toMatchObject({ versionId: a.versionId });
    expect(state.history.map((h) => h.rolloutId)).toEqual(Array.from({ length: deploys }, (_, i) => `r${i}`));
    const events = await t.database.db
      .select({ kind: endpointEvents.kind })
      .from(endpointEvents)
      .innerJoin(endpoints, eq(endpoints.id, endpointEvents.endpointId))
      .where(and(eq(endpoints.projectId, t.projectId), eq(endpoints.name, 'cycle')));
    expect(events).toHaveLength(deploys);

    // A late waiter (a pipeline whose worker died) still learns how its rollout ended, across continue-as-new; the oldest are forgotten.
    const controller = t.factory.client.workflow.getHandle(workflowId);
    expect(await controller.executeUpdate(rolloutOutcomeUpdate, { args: [{ rolloutId: 'r7' }] })).toMatchObject({ rolloutId: 'r7', status: 'succeeded' });
    expect(await controller.executeUpdate(rolloutOutcomeUpdate, { args: [{ rolloutId: 'r3' }] })).toMatchObject({ rolloutId: 'r3', status: 'succeeded', candidate: { versionId: b.versionId } });
    const forgotten = await controller.executeUpdate(rolloutOutcomeUpdate, { args: [{ rolloutId: 'r0' }] }).catch((err: unknown) => err);
    expect(forgotten).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((forgotten as WorkflowUpdateFailedError).cause).toMatchObject({ type: RolloutRefusal.UnknownRollout });
  });

  it("a pipeline's deploy stage hands the version to the endpoint's controller; a predict right after reaches it", async () => {
    expect((await t.request('POST', '/v1/datasets/churn/versions?wait=true', { body: toCsv(churnRows(300)), contentType: 'text/csv' })).status).toBe(201);
    const start = await t.request('POST', '/v1/pipelines', { json: { dataset: 'churn', target: 'churned', model: { type: 'logistic', epochs: 3 }, endpoint: 'handover' } });
    expect(start.status).toBe(202);
    const { workflowId } = (await start.json()) as { workflowId: string };
    const final = await waitForWorkflow(t, workflowId);
    expect(final.status).toBe('COMPLETED');
    expect(final.result).toMatchObject({ stage: 'done', deployment: { endpointName: 'handover' } });
    const served = (await (await t.request('POST', '/v1/endpoints/handover/predict', { json: { records: [{ tenure: 3, spend: 150, noise: 0 }] } })).json()) as {
      modelVersion: { version: number };
    };
    expect(served.modelVersion.version).toBe(1);
    const view = (await (await t.request('GET', '/v1/endpoints/handover')).json()) as {
      stable: { model: string; version: number };
      rollout: { rolloutId: string; status: string; strategy: string };
      events: { kind: string }[];
    };
    expect(view.stable).toMatchObject({ model: 'handover', version: 1 });
    expect(view.rollout).toMatchObject({ rolloutId: pipelineRolloutId(workflowId), status: 'succeeded', strategy: 'allAtOnce' });
    expect(view.events.map((e) => e.kind)).toEqual(['deploy']);
    // The pipeline without a promotion stage still moves `production` with the deploy.
    const moves = (await (await t.request('GET', '/v1/models/handover/aliases/production/history')).json()) as { history: { toVersion?: number }[] };
    expect(JSON.stringify(moves)).toContain(workflowId);

    await recordHistory(workflowId, 'factory-pipeline-endpoint-controller.json');
    await recordHistory(endpointControllerWorkflowId(t.projectId, 'handover'), 'endpoint-controller-pipeline-deploy.json');
  });
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
