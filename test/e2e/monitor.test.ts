import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredDriftReport } from '../../db/queries/monitoring';
import { recordHistory } from '../support/record-history';
import { doubledSpend, serveLabelled } from '../support/labelled-traffic';
import { churnRows, toCsv } from '../support/synthetic-data';
import { startTestFactory, waitForWorkflow, type TestFactory } from '../support/test-factory';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function errorOf(res: Response): Promise<{ status: number; code: string; message: string; field?: unknown }> {
  const body = (await res.json()) as { error: { code: string; message: string; field?: unknown } };
  return { status: res.status, code: body.error.code, message: body.error.message, field: body.error.field };
}

/** Monitoring end to end: train on A, serve B with labels, the monitor flags spend (not tenure), alerts a webhook; a calm window does not drift. */
describe('drift monitoring of an endpoint', () => {
  let t: TestFactory;
  let receiver: WebhookReceiver;
  let secret: string;

  beforeAll(async () => {
    t = await startTestFactory({ activityTimeouts: { heartbeatTimeoutMs: 3000 }, webhookAllowHosts: '127.0.0.1' });
    receiver = await startWebhookReceiver();
    expect((await t.request('POST', '/v1/datasets/churn/versions?wait=true', { body: toCsv(churnRows(1500, 'train-a')), contentType: 'text/csv' })).status).toBe(201);
    const start = await t.request('POST', '/v1/pipelines', { json: { dataset: 'churn', target: 'churned', model: { type: 'logistic', epochs: 20, learningRate: 0.1 }, endpoint: 'churn' } });
    expect(start.status).toBe(202);
    const done = await waitForWorkflow(t, ((await start.json()) as { workflowId: string }).workflowId);
    expect(done.status).toBe('COMPLETED');
    const hook = await t.request('POST', '/v1/webhooks', { json: { url: receiver.url, events: ['endpoint.drift_detected'] } });
    expect(hook.status).toBe(201);
    secret = ((await hook.json()) as { secret: string }).secret;
  });
  afterAll(async () => {
    await t?.stop();
    await receiver?.close();
  });

  async function monitor(window: { from: string; to: string }, history?: string): Promise<StoredDriftReport[]> {
    const res = await t.request('POST', '/v1/endpoints/churn/monitor', { json: window });
    expect(res.status).toBe(202);
    const started = (await res.json()) as { workflowId: string; window: { from: string; to: string }; links: { drift: string } };
    expect(started.window).toEqual(window);
    const done = await waitForWorkflow(t, started.workflowId);
    expect(done.status).toBe('COMPLETED');
    if (history) await recordHistory(started.workflowId, history);
    const drift = (await (await t.request('GET', started.links.drift)).json()) as { reports: StoredDriftReport[] };
    return drift.reports.filter((r) => r.workflowId === started.workflowId);
  }

  it('validates the monitoring configuration, names the field or the unknown feature, and fills defaults', async () => {
    const fresh = (await (await t.request('GET', '/v1/endpoints/churn/monitoring')).json()) as Record<string, unknown>;
    expect(fresh).toMatchObject({ endpoint: 'churn', features: ['tenure', 'spend', 'noise'], thresholds: { psi: 0.2, ks: 0.1, wasserstein: 0.1 }, retrain: { enabled: false }, updatedAt: null });

    const unknown = await errorOf(await t.request('PUT', '/v1/endpoints/churn/monitoring', { json: { thresholds: { features: { age: { psi: 0.3 } } } } }));
    expect(unknown).toMatchObject({ status: 422, code: 'unknown_feature', field: 'thresholds.features' });
    expect(unknown.message).toContain('"age"');
    expect(unknown.message).toContain('tenure, spend, noise');
    const negative = await errorOf(await t.request('PUT', '/v1/endpoints/churn/monitoring', { json: { thresholds: { psi: -1 } } }));
    expect(negative).toMatchObject({ status: 422, code: 'invalid_request', field: 'thresholds.psi' });
    const noModel = await errorOf(await t.request('PUT', '/v1/endpoints/churn/monitoring', { json: { retrain: { enabled: true } } }));
    expect(noModel).toMatchObject({ status: 422, code: 'invalid_request', field: 'retrain.model' });
    const stray = await errorOf(await t.request('PUT', '/v1/endpoints/churn/monitoring', { json: { thresholds: { psii: 0.2 } } }));
    expect(stray).toMatchObject({ status: 422, code: 'invalid_request' });
    expect((await errorOf(await t.request('GET', '/v1/endpoints/nope/monitoring'))).status).toBe(404);
    const viewer = await t.createKey('viewer');
    expect((await t.request('PUT', '/v1/endpoints/churn/monitoring', { json: {}, key: viewer })).status).toBe(403);
    expect((await t.request('POST', '/v1/endpoints/churn/monitor', { json: {}, key: viewer })).status).toBe(403);
    expect((await t.request('GET', '/v1/endpoints/churn/drift', { key: viewer })).status).toBe(200);

    // Noise never matters to this model: its threshold is loosened; the rest are the defaults.
    const put = await t.request('PUT', '/v1/endpoints/churn/monitoring', {
      json: { thresholds: { psi: 0.2, minAccuracy: 0.5, features: { noise: { psi: 0.5 } } }, retrain: { enabled: true, model: { type: 'logistic', epochs: 20 } } },
    });
    expect(put.status).toBe(200);
    const saved = (await put.json()) as Record<string, unknown>;
    expect(saved).toMatchObject({
      thresholds: { psi: 0.2, ks: 0.1, js: 0.1, chi2PValue: 0.05, wasserstein: 0.1, predictionPsi: 0.2, minAccuracy: 0.5, maxRmse: null, minLabels: 30, minRows: 100, features: { noise: { psi: 0.5 } } },
      retrain: { enabled: true, model: { type: 'logistic', epochs: 20, learningRate: 0.05 } },
      updatedBy: expect.any(String) as unknown,
    });
    expect(await (await t.request('GET', '/v1/endpoints/churn/monitoring')).json()).toEqual(saved);
  });

  it('traffic from a shifted distribution: spend drifted, tenure not, live accuracy from the labels, one signed webhook alert', async () => {
    const from = new Date().toISOString();
    await sleep(5);
    await serveLabelled(t, 'churn', doubledSpend(churnRows(800, 'serve-b')));
    await sleep(5);
    const to = new Date().toISOString();
    const [report, ...others] = await monitor({ from, to }, 'monitor-endpoint-drifted.json');
    expect(others).toEqual([]);
    expect(report).toMatchObject({ drifted: true, windowFrom: from, windowTo: to, report: { rows: 800, baseline: true, enoughRows: true, model: { name: 'churn', version: 1 } } });
    const byName = Object.fromEntries(report!.report.features.map((f) => [f.feature, f]));
    expect(byName.spend).toMatchObject({ drifted: true, rows: 800, missing: 0 });
    expect(byName.spend!.psi).toBeGreaterThan(1);
    expect(byName.tenure, JSON.stringify(byName.tenure)).toMatchObject({ drifted: false, crossed: [] });
    expect(byName.noise).toMatchObject({ drifted: false, thresholdsUsed: { psi: 0.5 } });
    expect(report!.report.live.labelled).toBe(800);
    expect(report!.report.live.accuracy).toEqual(expect.any(Number));
    expect(report!.report.live.rocAuc).toEqual(expect.any(Number));
    expect(report!.report.reasons).toContainEqual(expect.stringMatching(/^feature spend drifted/));

    // The alert: one signed delivery of endpoint.drift_detected naming spend.
    const deadline = Date.now() + 30_000;
    while (receiver.received.length < 1 && Date.now() < deadline) await sleep(100);
    expect(receiver.received).toHaveLength(1);
    const [delivery] = receiver.received;
    expect(delivery!.headers['x-factory-event']).toBe('endpoint.drift_detected');
    const signature = `sha256=${createHmac('sha256', secret).update(`${String(delivery!.headers['x-factory-timestamp'])}.${delivery!.body}`).digest('hex')}`;
    expect(delivery!.headers['x-factory-signature']).toBe(signature);
    expect(JSON.parse(delivery!.body)).toMatchObject({
      type: 'endpoint.drift_detected',
      model: { name: 'churn', version: 1 },
      data: { endpoint: 'churn', window: { from, to }, reportId: report!.id, driftedFeatures: ['spend'] },
    });

    // The same window again: the run that reported it is found, nothing is computed or sent twice.
    const again = await t.request('POST', '/v1/endpoints/churn/monitor', { json: { from, to } });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ alreadyReported: true });
  });

  it('a window from the training distribution does not drift; the default window starts where the last report ended', async () => {
    const from = new Date().toISOString();
    await sleep(5);
    await serveLabelled(t, 'churn', churnRows(800, 'serve-a'));
    await sleep(5);
    const to = new Date().toISOString();
    const [report] = await monitor({ from, to }, 'monitor-endpoint-calm.json');
    expect(report?.report.reasons).toEqual([]);
    expect(report).toMatchObject({ drifted: false, report: { rows: 800 } });
    for (const f of report!.report.features) expect(f.drifted).toBe(false);
    expect(report!.report.live.accuracy).toBeGreaterThan(0.8);

    const next = await t.request('POST', '/v1/endpoints/churn/monitor', { json: {} });
    expect(next.status).toBe(202);
    const started = (await next.json()) as { workflowId: string; window: { from: string; to: string } };
    expect(started.window.from).toBe(to);
    expect((await waitForWorkflow(t, started.workflowId)).result).toMatchObject({ reports: [], drifted: false, alerts: [] });

    const all = (await (await t.request('GET', '/v1/endpoints/churn/drift?limit=1')).json()) as { reports: StoredDriftReport[]; nextCursor: string | null };
    expect(all.reports.map((r) => r.windowTo)).toEqual([to]);
    expect(all.nextCursor).toBe('1');
    const rest = (await (await t.request('GET', `/v1/endpoints/churn/drift?limit=1&cursor=${all.nextCursor}`)).json()) as { reports: StoredDriftReport[]; nextCursor: string | null };
    expect(rest.reports[0]?.drifted).toBe(true);
    expect(rest.nextCursor).toBeNull();
    expect(await errorOf(await t.request('GET', '/v1/endpoints/churn/drift?from=yesterday'))).toMatchObject({ status: 400, code: 'invalid_query_parameter', field: 'from' });
    expect(await errorOf(await t.request('POST', '/v1/endpoints/churn/monitor', { json: { from: to, to: from } }))).toMatchObject({ status: 422, code: 'invalid_window' });
    expect(receiver.received).toHaveLength(1);
  });
});
