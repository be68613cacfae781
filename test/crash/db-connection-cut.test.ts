import { and, eq } from 'drizzle-orm';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { auditLog, endpointEvents, endpoints, models, modelVersions, trainingRuns } from '../../db/schema';
import { newId } from '../../platform/ids';
import { endpointControllerWorkflowId } from '../../workflows/contracts';
import { churnRows, toCsv } from '../support/synthetic-data';
import { startTestFactory, waitForWorkflow, type TestFactory } from '../support/test-factory';

const EPOCHS = 20;

/**
 * The database connection of a running activity is cut (`pg_terminate_backend`) while its transaction waits
 * on a row lock the test holds: the activity fails, Temporal retries it, and nothing is written twice.
 */
describe.skipIf(!inject('databaseUrl'))('activities survive their database connection being cut (PostgreSQL only: PGlite has no backends to terminate)', () => {
  let t: TestFactory;
  let admin: Client;

  beforeAll(async () => {
    t = await startTestFactory({ activityTimeouts: { heartbeatTimeoutMs: 3_000 } });
    admin = new Client({ connectionString: inject('databaseUrl') });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await t?.stop();
  });

  it('retries the per-epoch training write, the registration and the deployment, each writing once', async () => {
    expect((await t.request('POST', '/v1/datasets/churn/versions?wait=true', { body: toCsv(churnRows(1000)), contentType: 'text/csv' })).status).toBe(201);
    // Rows the register and deploy transactions will upsert, so the test can hold them locked from the start.
    const modelId = newId('mdl');
    const endpointId = newId('ep');
    await t.database.db.insert(models).values({ id: modelId, projectId: t.projectId, name: 'cut' });
    await t.database.db.insert(endpoints).values({ id: endpointId, projectId: t.projectId, name: 'cut', status: 'live' });
    const modelLock = await rowLock(`SELECT 1 FROM models WHERE id = '${modelId}' FOR UPDATE`);
    const endpointLock = await rowLock(`SELECT 1 FROM endpoints WHERE id = '${endpointId}' FOR UPDATE`);

    const start = await t.request('POST', '/v1/pipelines', {
      json: { dataset: 'churn', target: 'churned', model: { type: 'mlp', hiddenUnits: [16], epochs: EPOCHS, batchSize: 8 }, endpoint: 'cut' },
    });
    expect(start.status).toBe(202);
    const { workflowId } = (await start.json()) as { workflowId: string };

    // Training: once an epoch is recorded, lock the run's row, so the next epoch's write waits on it.
    const run = await waitFor(async () => {
      const [row] = await t.database.db.select().from(trainingRuns).where(eq(trainingRuns.workflowId, `${workflowId}/train`));
      return row && row.epochMetrics.length >= 1 ? row : undefined;
    });
    const runLock = await rowLock(`SELECT 1 FROM training_runs WHERE id = '${run.id}' FOR UPDATE`);
    expect(await cutBlockedConnection(runLock)).toMatch(/^update "training_runs" set "epoch_metrics"/i);
    await runLock.release();

    expect(await cutBlockedConnection(modelLock)).toMatch(/^insert into "models"/i);
    await modelLock.release();
    expect(await cutBlockedConnection(endpointLock)).toMatch(/^insert into "endpoints"/i);
    await endpointLock.release();

    const final = await waitForWorkflow(t, workflowId);
    expect(final.status, JSON.stringify(final)).toBe('COMPLETED');

    const [trained] = await t.database.db.select().from(trainingRuns).where(eq(trainingRuns.id, run.id));
    expect(trained?.epochMetrics.map((m) => m.epoch)).toEqual(Array.from({ length: EPOCHS }, (_, i) => i + 1));
    expect(trained?.epochMetrics.at(-1)?.attempt).toBe(2);
    const versions = await t.database.db.select().from(modelVersions).where(eq(modelVersions.trainingRunId, run.id));
    expect(versions).toHaveLength(1);
    const registered = await t.database.db.select().from(auditLog).where(and(eq(auditLog.action, 'model_version.registered'), eq(auditLog.subjectId, versions[0]?.id ?? '')));
    expect(registered).toHaveLength(1);
    expect(await t.database.db.select().from(endpointEvents).where(eq(endpointEvents.endpointId, endpointId))).toHaveLength(1);
    const deployed = await t.database.db.select().from(auditLog).where(and(eq(auditLog.action, 'endpoint.deployed'), eq(auditLog.subjectId, endpointId)));
    expect(deployed).toHaveLength(1);
    // Each cut activity ran a second attempt (the history keeps the attempt that completed); the deploy is the
    // endpoint controller's traffic change, which the pipeline handed over.
    expect(await completedAttempt(t, `${workflowId}/register`)).toBe(2);
    expect(await completedAttempt(t, endpointControllerWorkflowId(t.projectId, 'cut'), 'applyTrafficChange')).toBe(2);
    const predict = await t.request('POST', '/v1/endpoints/cut/predict', { json: { records: [{ tenure: 2, spend: 180, noise: 0 }] } });
    expect(predict.status).toBe(200);
  });

  /** A connection of the test's own that holds a row lock in an open transaction until released. */
  async function rowLock(lockQuery: string): Promise<{ pid: number; release(): Promise<void> }> {
    const client = new Client({ connectionString: inject('databaseUrl') });
    await client.connect();
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    await client.query('BEGIN');
    await client.query(lockQuery);
    return {
      pid: rows[0]?.pid ?? 0,
      async release() {
        await client.query('ROLLBACK');
        await client.end();
      },
    };
  }

  /** Waits until a factory connection is blocked by the lock, terminates it and returns the query it was running. */
  async function cutBlockedConnection(lock: { pid: number }): Promise<string> {
    const blocked = await waitFor(async () => {
      const { rows } = await admin.query<{ pid: number; query: string }>('SELECT pid, query FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [lock.pid]);
      return rows[0];
    });
    const { rows } = await admin.query<{ terminated: boolean }>('SELECT pg_terminate_backend($1) AS terminated', [blocked.pid]);
    expect(rows[0]?.terminated).toBe(true);
    return blocked.query;
  }
});

async function completedAttempt(t: TestFactory, workflowId: string, activityType?: string): Promise<number | undefined> {
  const history = await t.factory.client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = history.events?.find((e) => e.activityTaskScheduledEventAttributes && (!activityType || e.activityTaskScheduledEventAttributes.activityType?.name === activityType));
  const started = history.events?.find((e) => e.activityTaskStartedEventAttributes && String(e.activityTaskStartedEventAttributes.scheduledEventId) === String(scheduled?.eventId));
  return started?.activityTaskStartedEventAttributes?.attempt ?? undefined;
}

async function waitFor<T>(probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('timed out');
}
