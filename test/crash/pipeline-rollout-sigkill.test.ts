import { and, eq, like } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { endpointEvents, endpoints } from '../../db/schema';
import { killableWorkers } from '../support/killable-workers';
import { churnRows, toCsv } from '../support/synthetic-data';
import { startTestFactory, type TestFactory, type WorkflowStatusBody } from '../support/test-factory';

/** Short, so the wait of a SIGKILLed worker is taken up within seconds; production uses 30 s. */
const HEARTBEAT_TIMEOUT_MS = 3_000;

/** The worker running a pipeline's rollout stage (its wait, the controller, the pipeline) is SIGKILLed mid-canary; another takes over. */
describe.skipIf(!inject('databaseUrl'))('a pipeline waiting on its canary survives a SIGKILLed worker (PostgreSQL: a child process cannot share in-memory PGlite)', () => {
  let t: TestFactory;
  const workers = killableWorkers(() => t, 'cpu');

  beforeAll(async () => {
    // The API (and the data plane the traffic goes through) runs here; factory-cpu only in child processes the test kills.
    t = await startTestFactory({ parts: { api: true }, activityTimeouts: { heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS } });
  });
  afterAll(async () => {
    await workers.killAll();
    await t?.stop();
  });

  const startWorkerProcess = () => workers.start();

  const pipeline = async (extra: Record<string, unknown>) => {
    const res = await t.request('POST', '/v1/pipelines', { json: { dataset: 'churn', target: 'churned', model: { type: 'logistic', learningRate: 0.1, epochs: 5 }, endpoint: 'crash', ...extra } });
    expect(res.status).toBe(202);
    return ((await res.json()) as { workflowId: string }).workflowId;
  };

  /** Predict traffic while polling the pipeline (its progress is a query: unanswered while no worker runs) until `done`. */
  async function driveUntil(workflowId: string, done: (body: WorkflowStatusBody) => boolean, timeoutMs = 100_000): Promise<WorkflowStatusBody> {
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; ; i++) {
      await t.request('POST', '/v1/endpoints/crash/predict', { json: { records: [{ tenure: Math.round(Math.random() * 60), spend: Math.random() * 200, noise: 0 }] } });
      if (i % 10 === 0) {
        const body = (await (await t.request('GET', `/v1/workflows/${encodeURIComponent(workflowId)}`)).json()) as WorkflowStatusBody;
        if (done(body)) return body;
        if (Date.now() > deadline) throw new Error(`pipeline ${workflowId} never got there: ${JSON.stringify(body)}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  const ended = (body: WorkflowStatusBody) => body.status !== 'RUNNING';

  it('the canary goes on, each step applied once, and the pipeline ends done with the rollout promoted', async () => {
    const doomed = await startWorkerProcess();
    expect((await t.request('POST', '/v1/datasets/churn/versions?wait=true', { body: toCsv(churnRows(400)), contentType: 'text/csv' })).status).toBe(201);
    const first = await pipeline({});
    expect((await driveUntil(first, ended)).result).toMatchObject({ stage: 'done' });

    const workflowId = await pipeline({ rollout: { strategy: 'canary', steps: [{ weight: 30, bakeSeconds: 6 }, { weight: 100, bakeSeconds: 0 }], gates: { errorRate: 0.05, minRequests: 5, gateIntervalSeconds: 1 } } });
    await driveUntil(workflowId, (b) => b.progress?.stage === 'rollout');
    doomed.child.kill('SIGKILL');
    const killedAt = Date.now();
    await doomed.exited();

    await startWorkerProcess();
    const end = await driveUntil(workflowId, ended);
    expect(end.status).toBe('COMPLETED');
    expect(end.result).toMatchObject({ stage: 'done', modelVersion: { version: 2 }, rollout: { strategy: 'canary', status: 'succeeded' } });

    const [endpoint] = await t.database.db.select().from(endpoints).where(and(eq(endpoints.projectId, t.projectId), eq(endpoints.name, 'crash')));
    const events = await t.database.db
      .select()
      .from(endpointEvents)
      .where(and(eq(endpointEvents.endpointId, endpoint?.id ?? ''), like(endpointEvents.idempotencyKey, `%:${workflowId}:deploy:%`)))
      .orderBy(endpointEvents.createdAt);
    expect(events.map((e) => [e.kind, e.trafficWeight])).toEqual([
      ['canary', 30],
      ['promote', 100],
    ]);

    // The wait itself was taken up: its activity ran again on the new worker and completed there.
    const history = await t.factory.client.workflow.getHandle(workflowId).fetchHistory();
    const waits = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'awaitRolloutOutcome');
    expect(waits).toHaveLength(1);
    const started = (history.events ?? []).find((e) => e.activityTaskStartedEventAttributes && Number(e.activityTaskStartedEventAttributes.scheduledEventId) === Number(waits[0]?.eventId));
    expect(started?.activityTaskStartedEventAttributes?.attempt).toBeGreaterThan(1);
    console.log(`[crash] pipeline rollout: worker SIGKILLed mid-canary; wait taken up at attempt ${started?.activityTaskStartedEventAttributes?.attempt}; SIGKILL → pipeline done: ${Date.now() - killedAt} ms`);
  });
});
