import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MonitorEndpointResult } from '../../domain/monitoring';
import { recordHistory } from '../support/record-history';
import { doubledSpend } from '../support/labelled-traffic';
import { churnRows, toCsv } from '../support/synthetic-data';
import { startTestFactory, waitForWorkflow, type TestFactory } from '../support/test-factory';
import { startWebhookReceiver } from '../support/webhook-receiver';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface AttemptView {
  workflowId: string;
  status: string;
  episode: string;
  attempt: number;
  maxAttempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
}

/** Issue 15, item 7: a failed retrain does not end retraining for its drift episode. */
describe('a failed retrain is tried again after its backoff', () => {
  let t: TestFactory;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  const window = { from: '', to: '' };
  const predictionIds: string[] = [];
  const drifted = doubledSpend(churnRows(400, 'attempts-b'));

  beforeAll(async () => {
    t = await startTestFactory({ activityTimeouts: { heartbeatTimeoutMs: 3000 }, webhookAllowHosts: '127.0.0.1' });
    receiver = await startWebhookReceiver();
    expect((await t.request('POST', '/v1/webhooks', { json: { url: receiver.url, events: ['retrain.failed'] } })).status).toBe(201);
    expect((await t.request('POST', '/v1/datasets/churn/versions?wait=true', { body: toCsv(churnRows(1000, 'attempts-a')), contentType: 'text/csv' })).status).toBe(201);
    const start = await t.request('POST', '/v1/pipelines', { json: { dataset: 'churn', target: 'churned', model: { type: 'logistic', epochs: 5, learningRate: 0.1 }, endpoint: 'churn' } });
    expect(start.status).toBe(202);
    expect((await waitForWorkflow(t, ((await start.json()) as { workflowId: string }).workflowId)).status).toBe('COMPLETED');
    // Drifted traffic with no label yet: a retrain of it has nothing to learn from and fails.
    window.from = new Date().toISOString();
    await sleep(5);
    for (let i = 0; i < drifted.length; i += 200) {
      const res = await t.request('POST', '/v1/endpoints/churn/predict', { json: { records: drifted.slice(i, i + 200).map(({ churned: _label, ...features }) => features) } });
      expect(res.status).toBe(200);
      predictionIds.push(...((await res.json()) as { predictions: { id: string }[] }).predictions.map((p) => p.id));
    }
    await sleep(5);
    window.to = new Date().toISOString();
    const put = await t.request('PUT', '/v1/endpoints/churn/monitoring', {
      json: { retrain: { enabled: true, model: { type: 'logistic', epochs: 5, learningRate: 0.1 }, maxAttempts: 3, backoffSeconds: 6 } },
    });
    expect(put.status).toBe(200);
  });
  afterAll(async () => {
    await t?.stop();
    await receiver?.close();
  });

  async function monitor(shiftMs: number): Promise<MonitorEndpointResult> {
    const res = await t.request('POST', '/v1/endpoints/churn/monitor', { json: { from: new Date(Date.parse(window.from) - shiftMs).toISOString(), to: window.to } });
    expect([200, 202]).toContain(res.status);
    const done = await waitForWorkflow(t, ((await res.json()) as { workflowId: string }).workflowId);
    expect(done.status).toBe('COMPLETED');
    return done.result as unknown as MonitorEndpointResult;
  }
  const attempts = async () => ((await (await t.request('GET', '/v1/endpoints/churn/retrains')).json()) as { retrains: AttemptView[] }).retrains;

  it('attempt 1 fails (no labelled traffic), webhooks hear retrain.failed, the next alarm after the backoff starts attempt 2, which succeeds', async () => {
    const first = await monitor(0);
    const [asked] = first.retrains ?? [];
    expect(asked).toMatchObject({ outcome: 'started' });
    const done = await waitForWorkflow(t, asked!.workflowId!);
    expect(done.status).toBe('FAILED');
    await recordHistory(asked!.workflowId!, 'retrain-endpoint-failed-attempt.json');

    const [failed] = await attempts();
    expect(failed).toMatchObject({ workflowId: asked!.workflowId, status: 'failed', attempt: 1, maxAttempts: 3 });
    expect(failed!.lastError).toMatch(/label/i);
    expect(Date.parse(failed!.nextAttemptAt!)).toBeGreaterThan(Date.now());

    // The failure reaches the project's webhooks, signed, naming endpoint, model, episode, attempt and error.
    const deadline = Date.now() + 20_000;
    while (receiver.received.length === 0 && Date.now() < deadline) await sleep(200);
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]!.headers['x-factory-event']).toBe('retrain.failed');
    const event = JSON.parse(receiver.received[0]!.body) as { type: string; model: { name: string }; data: Record<string, unknown> };
    expect(event).toMatchObject({ type: 'retrain.failed', model: { name: 'churn' }, data: { endpoint: 'churn', episode: asked!.episode, attempt: 1, maxAttempts: 3, nextAttemptAt: failed!.nextAttemptAt } });
    expect(String(event.data.error)).toMatch(/label/i);

    // The labels arrive; an alarm of the same episode during the backoff starts nothing.
    const feedback = await t.request('POST', '/v1/feedback', { json: { feedback: predictionIds.map((predictionId, i) => ({ predictionId, label: drifted[i]!.churned })) } });
    expect(feedback.status).toBe(200);
    if (Date.now() < Date.parse(failed!.nextAttemptAt!) - 1000) {
      const early = await monitor(1);
      expect(early.retrains).toMatchObject([{ outcome: 'claimed_before', episode: asked!.episode, workflowId: asked!.workflowId }]);
    }
    await sleep(Math.max(0, Date.parse(failed!.nextAttemptAt!) - Date.now() + 200));
    const later = await monitor(2);
    const [second] = later.retrains ?? [];
    expect(second).toMatchObject({ outcome: 'started', episode: asked!.episode, workflowId: `${asked!.workflowId}:attempt-2` });
    const retried = await waitForWorkflow(t, second!.workflowId!);
    expect(retried.status, JSON.stringify(retried)).toBe('COMPLETED');
    const [latest, earlier] = await attempts();
    expect(latest).toMatchObject({ workflowId: second!.workflowId, status: 'succeeded', attempt: 2, maxAttempts: 3, nextAttemptAt: null, lastError: null });
    expect(earlier).toMatchObject({ attempt: 1, status: 'failed' });
    expect(receiver.received).toHaveLength(1);
  });
});
