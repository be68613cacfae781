import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimRetrain } from '../../db/queries/retrains';
import { endpoints, idempotencyKeys, modelVersions } from '../../db/schema';
import type { TrainedClassifier } from '../../ml/trained-model';
import { goodClassifier } from '../support/onnx-graphs';
import { registerVersion, setEndpointTraffic } from '../support/deployed-model';
import { startTestFactory, type TestFactory } from '../support/test-factory';

const DUPLICATES = 6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Answer {
  status: number;
  replayed: boolean;
  location: string | null;
  body: Record<string, unknown> & { workflowId?: string; error?: { code: string } };
}

/**
 * Retrain, monitor and schedule trigger/backfill honour Idempotency-Key as pipelines do: a retry gets the
 * first answer and starts nothing more. The factory runs no workers, so what was started stays running.
 */
describe('Idempotency-Key on retrain, monitor and schedule runs', () => {
  let t: TestFactory;
  const model: TrainedClassifier = { ...goodClassifier(0.1, 3), features: ['tenure', 'spend', 'noise'] };

  const post = async (path: string, key: string | undefined, json?: unknown): Promise<Answer> => {
    const res = await t.factory.app.request(path, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json', ...(key !== undefined && { 'idempotency-key': key }) },
      ...(json !== undefined && { body: JSON.stringify(json) }),
    });
    return { status: res.status, replayed: res.headers.get('idempotent-replayed') === 'true', location: res.headers.get('location'), body: (await res.json()) as Answer['body'] };
  };
  const schedule = async (name: string) => (await (await t.request('GET', `/v1/schedules/${name}`)).json()) as { actionsTaken: number; recentActions: { scheduledAt: string }[] };
  /** The schedule's action count once it has stopped moving (a trigger or backfill is carried out within a moment). */
  async function settledActions(name: string, atLeast: number): Promise<number> {
    const deadline = Date.now() + 20_000;
    let taken = (await schedule(name)).actionsTaken;
    while (taken < atLeast && Date.now() < deadline) {
      await sleep(200);
      taken = (await schedule(name)).actionsTaken;
    }
    await sleep(1500);
    return (await schedule(name)).actionsTaken;
  }
  /** As if the API died after acting but before recording its answer. */
  const forgetAnswer = (key: string) =>
    t.database.db
      .update(idempotencyKeys)
      .set({ status: null, response: null, workflowId: null, completedAt: null })
      .where(and(eq(idempotencyKeys.projectId, t.projectId), eq(idempotencyKeys.key, key)));

  beforeAll(async () => {
    t = await startTestFactory({ parts: { api: true } });
    for (const name of ['churn', 'other']) await setEndpointTraffic(t, name, { stable: (await registerVersion(t, name, model)).id });
    for (const name of ['churn-trigger', 'churn-backfill']) {
      const created = await t.request('POST', '/v1/schedules', { json: { name, action: { type: 'monitor', endpoint: 'churn', window: '1h' }, spec: { interval: '1h' }, paused: true } });
      expect(created.status).toBe(201);
    }
  });
  afterAll(async () => {
    for (const name of ['churn-trigger', 'churn-backfill']) await t?.request('DELETE', `/v1/schedules/${name}`);
    await t?.stop();
  });

  it('a retried retrain gets the first answer while the retrain it started runs; another request is still refused', async () => {
    const key = randomUUID();
    const first = await post('/v1/endpoints/churn/retrain', key);
    expect(first.status).toBe(202);
    const workflowId = first.body.workflowId!;
    expect(first.location).toBe(`/v1/workflows/${encodeURIComponent(workflowId)}`);
    // The retrain claims its episode as its first step: the model now has a running retrain.
    const [row] = await t.database.db
      .select({ endpointId: endpoints.id, modelId: modelVersions.modelId })
      .from(endpoints)
      .innerJoin(modelVersions, eq(modelVersions.id, endpoints.stableVersionId))
      .where(and(eq(endpoints.projectId, t.projectId), eq(endpoints.name, 'churn')));
    const claim = await claimRetrain(t.database.db, { projectId: t.projectId, endpointId: row!.endpointId, modelId: row!.modelId, episode: `manual:${workflowId}`, workflowId, trigger: { kind: 'manual', requestedBy: 'test' } });
    expect(claim.kind).toBe('claimed');

    const retries = await Promise.all(Array.from({ length: DUPLICATES }, () => post('/v1/endpoints/churn/retrain', key)));
    for (const retry of retries) expect(retry).toEqual({ ...first, replayed: true });
    // Without the key it is another request, refused while the first runs.
    const another = await post('/v1/endpoints/churn/retrain', randomUUID());
    expect({ status: another.status, code: another.body.error?.code }).toEqual({ status: 409, code: 'retrain_running' });

    // A retry after a crash between starting and recording joins the retrain it started.
    await forgetAnswer(key);
    const recovered = await post('/v1/endpoints/churn/retrain', key);
    expect({ status: recovered.status, body: recovered.body }).toEqual({ status: 202, body: first.body });
  });

  it('concurrent first requests for a retrain with one key start one retrain and give one answer', async () => {
    const answers = await Promise.all(Array.from({ length: DUPLICATES }, () => post('/v1/endpoints/other/retrain', 'other-retrain-1')));
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([202]));
    expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1);
  });

  it('a retried monitor gets the first answer (the same window, no second monitor); the key with another body is a 409', async () => {
    const key = randomUUID();
    const first = await post('/v1/endpoints/churn/monitor', key);
    expect(first.status).toBe(202);
    await sleep(20);
    const retries = await Promise.all(Array.from({ length: DUPLICATES }, () => post('/v1/endpoints/churn/monitor', key)));
    for (const retry of retries) expect(retry).toEqual({ ...first, replayed: true });

    const window = first.body.window as { from: string; to: string };
    const reused = await post('/v1/endpoints/churn/monitor', key, { from: window.from, to: new Date().toISOString() });
    expect({ status: reused.status, code: reused.body.error?.code }).toEqual({ status: 409, code: 'idempotency_key_reused' });

    // Concurrent first requests with one key: one window, one monitor.
    const fresh = randomUUID();
    const racing = await Promise.all(Array.from({ length: DUPLICATES }, async (_, i) => (await sleep(i * 5), post('/v1/endpoints/churn/monitor', fresh))));
    expect(new Set(racing.map((a) => JSON.stringify(a.body))).size).toBe(1);

    // After a crash between starting and recording, the retry asks for the same window (the key's first use ends it).
    await forgetAnswer(key);
    const recovered = await post('/v1/endpoints/churn/monitor', key);
    expect(recovered.body.workflowId).toBe(first.body.workflowId);
    expect(recovered.body.window).toEqual(window);
  });

  it('a retried schedule trigger starts one run, also after a crash between triggering and recording', async () => {
    const key = randomUUID();
    const first = await post('/v1/schedules/churn-trigger/trigger', key);
    expect(first.status).toBe(202);
    const retries = await Promise.all(Array.from({ length: 3 }, () => post('/v1/schedules/churn-trigger/trigger', key)));
    for (const retry of retries) expect(retry).toEqual({ ...first, replayed: true });
    expect(await settledActions('churn-trigger', 1)).toBe(1);

    await forgetAnswer(key);
    expect((await post('/v1/schedules/churn-trigger/trigger', key)).body).toEqual(first.body);
    expect(await settledActions('churn-trigger', 1)).toBe(1);
    // Another key is another trigger.
    expect((await post('/v1/schedules/churn-trigger/trigger', randomUUID())).status).toBe(202);
    expect(await settledActions('churn-trigger', 2)).toBe(2);
  });

  it('a retried schedule backfill starts its runs once; the key with another range is a 409', async () => {
    const key = randomUUID();
    const to = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 30 * 60_000);
    const range = { from: new Date(to.getTime() - 3 * 3_600_000).toISOString(), to: to.toISOString(), overlap: 'allow_all' };
    const first = await post('/v1/schedules/churn-backfill/backfill', key, range);
    expect(first.status).toBe(202);
    const runs = await settledActions('churn-backfill', 3);
    expect(runs).toBe(3);
    const retry = await post('/v1/schedules/churn-backfill/backfill', key, range);
    expect(retry).toEqual({ ...first, replayed: true });
    await forgetAnswer(key);
    expect((await post('/v1/schedules/churn-backfill/backfill', key, range)).status).toBe(202);
    expect(await settledActions('churn-backfill', runs)).toBe(runs);

    const reused = await post('/v1/schedules/churn-backfill/backfill', key, { ...range, from: new Date(to.getTime() - 3_600_000).toISOString() });
    expect({ status: reused.status, code: reused.body.error?.code }).toEqual({ status: 409, code: 'idempotency_key_reused' });
  });
});
