import { randomUUID } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapProject } from '../../db/queries/projects';
import type { StoredDriftReport } from '../../db/queries/monitoring';
import type { TrainedClassifier } from '../../ml/trained-model';
import { goodClassifier } from '../support/onnx-graphs';
import { registerVersion, setEndpointTraffic } from '../support/deployed-model';
import { recordHistory } from '../support/record-history';
import { setEndpointTraffic as setTraffic } from '../support/serving-fixtures';
import { startTestFactory, waitForWorkflow, type TestFactory } from '../support/test-factory';

interface ScheduleBody {
  name: string;
  action: { type: string; endpoint: string; window?: string };
  spec: Record<string, string>;
  overlap: string;
  catchupWindow: string;
  paused: boolean;
  note: string | null;
  nextRuns: string[];
  recentActions: { scheduledAt: string; takenAt: string; workflowId: string; runId: string }[];
  actionsTaken: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const HOUR = 3_600_000;

async function errorOf(res: Response): Promise<{ status: number; code: string; field?: unknown }> {
  const body = (await res.json()) as { error: { code: string; field?: unknown } };
  return { status: res.status, code: body.error.code, field: body.error.field };
}

/** Schedules are real Temporal Schedules: they fire by themselves, and pause, trigger, backfill and delete through the API. */
describe('schedules API', () => {
  let t: TestFactory;
  let otherKey: string;
  let otherProjectId: string;
  const model: TrainedClassifier = { ...goodClassifier(0.1, 3), features: ['tenure', 'spend', 'noise'] };

  beforeAll(async () => {
    t = await startTestFactory({ parts: { api: true, cpuWorker: true } });
    await setEndpointTraffic(t, 'churn', { stable: (await registerVersion(t, 'churn', model)).id });
    // Traffic for the monitor to report on.
    const records = Array.from({ length: 20 }, (_, i) => ({ tenure: i, spend: 2 * i, noise: 0 }));
    expect((await t.request('POST', '/v1/endpoints/churn/predict', { json: { records } })).status).toBe(200);
    otherKey = `afk_test_other_${randomUUID()}`;
    otherProjectId = (await bootstrapProject(t.database.db, { projectName: `other-${randomUUID().slice(0, 8)}`, adminKey: otherKey })).projectId;
  });
  afterAll(async () => {
    // Schedules outlive the test's workers: delete what is left so nothing fires onto a dead task queue.
    for (const key of [t?.adminKey, otherKey]) {
      if (!t || !key) continue;
      const listed = (await (await t.request('GET', '/v1/schedules', { key })).json()) as { schedules: ScheduleBody[] };
      for (const s of listed.schedules) await t.request('DELETE', `/v1/schedules/${s.name}`, { key });
    }
    await t?.stop();
  });

  async function schedule(name: string, key?: string): Promise<ScheduleBody> {
    const res = await t.request('GET', `/v1/schedules/${name}`, key ? { key } : {});
    expect(res.status).toBe(200);
    return (await res.json()) as ScheduleBody;
  }

  /** Polls the schedule until `ok` holds (a run appears in recentActions within a moment of being due). */
  async function until(name: string, ok: (s: ScheduleBody) => boolean, what: string): Promise<ScheduleBody> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const s = await schedule(name);
      if (ok(s)) return s;
      if (Date.now() > deadline) throw new Error(`schedule ${name}: ${what} did not happen: ${JSON.stringify(s)}`);
      await sleep(300);
    }
  }

  async function listedNames(key?: string): Promise<string[]> {
    const res = await t.request('GET', '/v1/schedules', key ? { key } : {});
    expect(res.status).toBe(200);
    return ((await res.json()) as { schedules: ScheduleBody[] }).schedules.map((s) => s.name);
  }

  async function eventuallyListed(present: boolean, name: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while ((await listedNames()).includes(name) !== present) {
      if (Date.now() > deadline) throw new Error(`schedule ${name} was ${present ? 'never listed' : 'still listed'}`);
      await sleep(300);
    }
  }

  it('a monitor schedule runs scheduledMonitor by itself over the window ending at its scheduled time, which runs monitorEndpoint and stores a report; pause stops it, trigger and backfill start runs, unpause resumes', async () => {
    const created = await t.request('POST', '/v1/schedules', {
      json: { name: 'churn-monitor', action: { type: 'monitor', endpoint: 'churn', window: '1h' }, spec: { interval: '2s' } },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/v1/schedules/churn-monitor');
    const body = (await created.json()) as ScheduleBody;
    expect(body).toMatchObject({ name: 'churn-monitor', action: { type: 'monitor', endpoint: 'churn', window: '1h' }, spec: { interval: '2s' }, overlap: 'skip', catchupWindow: '1h', paused: false });
    expect(body.nextRuns.length).toBeGreaterThan(0);
    expect(new Date(body.nextRuns[0]!).getTime()).toBeGreaterThan(Date.now() - 2_000);

    // It fires by itself.
    const fired = await until('churn-monitor', (s) => s.recentActions.length > 0, 'a scheduled run');
    const first = fired.recentActions[0]!;
    expect(first.workflowId).toContain('scheduled-monitor-churn-monitor-');
    const run = await waitForWorkflow(t, first.workflowId);
    expect(run).toMatchObject({ status: 'COMPLETED', type: 'scheduledMonitor' });
    const result = run.result as { monitorWorkflowId: string; window: { from: string; to: string }; result: { reports: { drifted: boolean }[] } | null };
    expect(result.window.to).toBe(first.scheduledAt);
    expect(new Date(result.window.to).getTime() - new Date(result.window.from).getTime()).toBe(HOUR);
    expect(result.result?.reports).toHaveLength(1);
    expect((await waitForWorkflow(t, result.monitorWorkflowId)).status).toBe('COMPLETED');
    const drift = (await (await t.request('GET', `/v1/endpoints/churn/drift?from=${encodeURIComponent(result.window.from)}&to=${encodeURIComponent(result.window.to)}`)).json()) as {
      reports: StoredDriftReport[];
    };
    expect(drift.reports.filter((r) => r.workflowId === result.monitorWorkflowId)).toHaveLength(1);
    await recordHistory(first.workflowId, 'scheduled-monitor.json');
    await eventuallyListed(true, 'churn-monitor');
    const listed = ((await (await t.request('GET', '/v1/schedules')).json()) as { schedules: ScheduleBody[] }).schedules.find((s) => s.name === 'churn-monitor');
    expect(listed).toMatchObject({ action: { type: 'monitor', endpoint: 'churn' }, spec: { interval: '2s' }, paused: false });
    expect(listed?.nextRuns.length).toBeGreaterThan(0);

    // Paused, it takes no scheduled action for longer than two intervals.
    // As the README's curl sends it (-d without a JSON content type).
    const paused = await t.request('POST', '/v1/schedules/churn-monitor/pause', { body: '{"note": "maintenance window"}', contentType: 'application/x-www-form-urlencoded' });
    expect(paused.status).toBe(200);
    expect(await paused.json()).toMatchObject({ paused: true, note: 'maintenance window' });
    await sleep(600); // a run due as the pause landed may still be taken
    const takenWhilePaused = (await schedule('churn-monitor')).actionsTaken;
    await sleep(4_500);
    expect((await schedule('churn-monitor')).actionsTaken).toBe(takenWhilePaused);

    // Trigger starts a run at once, even while paused.
    const triggered = await t.request('POST', '/v1/schedules/churn-monitor/trigger');
    expect(triggered.status).toBe(202);
    await until('churn-monitor', (s) => s.actionsTaken === takenWhilePaused + 1, 'the triggered run');

    // Backfill starts the runs that were due in a past range, each over its own window.
    const from = new Date(Math.floor((Date.now() - 24 * HOUR) / 2_000) * 2_000);
    const to = new Date(from.getTime() + 5_000);
    const backfill = await t.request('POST', '/v1/schedules/churn-monitor/backfill', { json: { from: from.toISOString(), to: to.toISOString(), overlap: 'allow_all' } });
    expect(backfill.status).toBe(202);
    const inRange = (s: ScheduleBody) => s.recentActions.filter((a) => new Date(a.scheduledAt) >= from && new Date(a.scheduledAt) <= to);
    const backfilled = inRange(await until('churn-monitor', (s) => inRange(s).length >= 3, 'three backfilled runs'));
    for (const action of backfilled) {
      const done = await waitForWorkflow(t, action.workflowId);
      expect(done.status).toBe('COMPLETED');
      const window = (done.result as { window: { from: string; to: string } }).window;
      expect(window).toEqual({ from: new Date(new Date(action.scheduledAt).getTime() - HOUR).toISOString(), to: action.scheduledAt });
    }

    // The same range again: each run finds its window already monitored and monitors nothing twice.
    const before = (await schedule('churn-monitor')).actionsTaken;
    expect((await t.request('POST', '/v1/schedules/churn-monitor/backfill', { json: { from: from.toISOString(), to: to.toISOString(), overlap: 'allow_all' } })).status).toBe(202);
    const again = await until('churn-monitor', (s) => s.actionsTaken >= before + backfilled.length, 'the repeated backfill');
    const repeated = again.recentActions.slice(-backfilled.length);
    expect(repeated.map((a) => a.scheduledAt).sort()).toEqual(backfilled.map((a) => a.scheduledAt).sort());
    for (const action of repeated) {
      const rerun = (await t.factory.client.workflow.getHandle(action.workflowId, action.runId).result()) as { result: unknown; monitorWorkflowId: string };
      expect(rerun.result).toBeNull();
    }

    const unpaused = await t.request('POST', '/v1/schedules/churn-monitor/unpause');
    expect(unpaused.status).toBe(200);
    const resumed = (await unpaused.json()) as ScheduleBody;
    expect(resumed.paused).toBe(false);
    await until('churn-monitor', (s) => s.actionsTaken > resumed.actionsTaken, 'a run after unpausing');

    expect((await t.request('DELETE', '/v1/schedules/churn-monitor')).status).toBe(204);
    expect(await errorOf(await t.request('GET', '/v1/schedules/churn-monitor'))).toMatchObject({ status: 404, code: 'schedule_not_found' });
    await eventuallyListed(false, 'churn-monitor');
  });

  it('a retrain schedule on a cron starts retrainEndpoint with the endpoint and the schedule as trigger', async () => {
    const created = await t.request('POST', '/v1/schedules', { json: { name: 'weekly-retrain', action: { type: 'retrain', endpoint: 'churn' }, spec: { cron: '0 3 * * 1' } } });
    expect(created.status).toBe(201);
    const body = (await created.json()) as ScheduleBody;
    const next = new Date(body.nextRuns[0]!);
    expect([next.getUTCDay(), next.getUTCHours(), next.getUTCMinutes()]).toEqual([1, 3, 0]);
    expect(body.spec).toEqual({ cron: '0 3 * * 1' });

    expect((await t.request('POST', '/v1/schedules/weekly-retrain/trigger', { json: {} })).status).toBe(202);
    const fired = await until('weekly-retrain', (s) => s.recentActions.length > 0, 'the triggered retrain');
    const handle = t.factory.client.workflow.getHandle(fired.recentActions[0]!.workflowId);
    const history = await handle.fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    expect(started?.workflowType?.name).toBe('retrainEndpoint');
    expect(defaultPayloadConverter.fromPayload(started!.input!.payloads![0]!)).toEqual({
      projectId: t.projectId,
      endpointName: 'churn',
      trigger: { kind: 'schedule', scheduleName: 'weekly-retrain' },
    });
    // Only its start is this test's business (the retrain workflow has its own tests).
    await handle.terminate('schedules test: only the start is checked').catch(() => undefined);
  });

  it('refuses bad requests with the field to fix, a duplicate with 409, unknown names with 404, and writes from a viewer', async () => {
    const valid = { name: 'hourly', action: { type: 'monitor', endpoint: 'churn' }, spec: { interval: '1h' } };
    const created = await t.request('POST', '/v1/schedules', { json: { ...valid, paused: true, note: 'starts after review' } });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ paused: true, note: 'starts after review' });
    expect(await errorOf(await t.request('POST', '/v1/schedules', { json: valid }))).toMatchObject({ status: 409, code: 'schedule_exists', field: 'name' });

    const other = { ...valid, name: 'other' };
    const cases: [unknown, number, string, string][] = [
      [{ ...other, name: 'Not OK!' }, 422, 'invalid_request', 'name'],
      [{ ...other, action: { type: 'monitor', endpoint: 'nope' } }, 404, 'endpoint_not_found', 'name'],
      [{ ...other, action: { type: 'explode', endpoint: 'churn' } }, 422, 'invalid_request', 'action.type'],
      [{ ...other, spec: { interval: 'often' } }, 422, 'invalid_duration', 'spec.interval'],
      [{ ...other, spec: {} }, 422, 'invalid_request', 'spec'],
      [{ ...other, spec: { cron: 'whenever it suits' } }, 422, 'invalid_cron', 'spec.cron'],
      // Well shaped, but minute 61 does not exist: Temporal's own parser refuses it.
      [{ ...other, action: { ...other.action, window: '1h' }, spec: { cron: '61 3 * * 1' } }, 422, 'invalid_cron', 'spec.cron'],
      [{ ...other, overlap: 'sometimes' }, 422, 'invalid_request', 'overlap'],
      [{ ...other, catchupWindow: '1 hour' }, 422, 'invalid_duration', 'catchupWindow'],
    ];
    for (const [json, status, code, field] of cases) {
      expect({ json, ...(await errorOf(await t.request('POST', '/v1/schedules', { json }))) }).toEqual({ json, status, code, field });
    }
    const minute61 = await t.request('POST', '/v1/schedules', { json: { ...other, action: { ...other.action, window: '1h' }, spec: { cron: '61 3 * * 1' } } });
    expect(((await minute61.json()) as { error: { message: string } }).error.message).toContain('Minute is not in range');
    expect(await errorOf(await t.request('POST', '/v1/schedules/hourly/backfill', { json: { from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' } }))).toMatchObject({
      status: 422,
      code: 'invalid_window',
    });
    for (const [method, path] of [
      ['GET', '/v1/schedules/missing'],
      ['POST', '/v1/schedules/missing/pause'],
      ['POST', '/v1/schedules/missing/trigger'],
      ['DELETE', '/v1/schedules/missing'],
    ] as const) {
      expect(await errorOf(await t.request(method, path))).toMatchObject({ status: 404, code: 'schedule_not_found' });
    }

    const viewer = await t.createKey('viewer');
    expect((await t.request('GET', '/v1/schedules/hourly', { key: viewer })).status).toBe(200);
    expect((await t.request('POST', '/v1/schedules', { json: { ...valid, name: 'viewer-made' }, key: viewer })).status).toBe(403);
    expect((await t.request('POST', '/v1/schedules/hourly/pause', { key: viewer })).status).toBe(403);
    expect((await t.request('DELETE', '/v1/schedules/hourly', { key: viewer })).status).toBe(403);
  });

  it("another project's key neither sees nor touches this project's schedules, and may use the same name for its own", async () => {
    await eventuallyListed(true, 'hourly');
    expect(await listedNames(otherKey)).not.toContain('hourly');
    expect((await errorOf(await t.request('GET', '/v1/schedules/hourly', { key: otherKey }))).status).toBe(404);
    expect((await errorOf(await t.request('DELETE', '/v1/schedules/hourly', { key: otherKey }))).status).toBe(404);
    expect((await errorOf(await t.request('POST', '/v1/schedules/hourly/trigger', { key: otherKey }))).status).toBe(404);
    const theirs = { name: 'hourly', action: { type: 'monitor', endpoint: 'churn' }, spec: { interval: '1h' } };
    expect(await errorOf(await t.request('POST', '/v1/schedules', { json: { ...theirs, action: { type: 'monitor', endpoint: 'their-churn' } }, key: otherKey }))).toMatchObject({
      status: 404,
      code: 'endpoint_not_found',
    });
    await setTraffic(t.database.db, { projectId: otherProjectId, endpoint: 'their-churn', stable: null });
    expect((await t.request('POST', '/v1/schedules', { json: { ...theirs, action: { type: 'monitor', endpoint: 'their-churn' } }, key: otherKey })).status).toBe(201);
    expect((await schedule('hourly', otherKey)).action.endpoint).toBe('their-churn');
    expect((await t.request('DELETE', '/v1/schedules/hourly', { key: otherKey })).status).toBe(204);
    expect((await schedule('hourly')).action.endpoint).toBe('churn');
  });
});
