import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { deliverRegistryEvent } from '../../workflows/deliver-registry-event';
import { registryEventWorkflowId } from '../../workflows/registry-events';
import { recordHistory } from '../support/record-history';
import { churnRows, toCsv } from '../support/synthetic-data';
import { startTestFactory, waitForWorkflow, type TestFactory } from '../support/test-factory';
import { startWebhookReceiver, type ReceivedDelivery, type WebhookReceiver } from '../support/webhook-receiver';

function validSignature(secret: string, r: ReceivedDelivery): boolean {
  const expected = `sha256=${createHmac('sha256', secret).update(`${String(r.headers['x-factory-timestamp'])}.${r.body}`).digest('hex')}`;
  const got = String(r.headers['x-factory-signature']);
  return got.length === expected.length && timingSafeEqual(Buffer.from(got), Buffer.from(expected));
}

async function errorCode(res: Response): Promise<string> {
  return ((await res.json()) as { error: { code: string } }).error.code;
}

describe('registry webhooks', () => {
  let t: TestFactory;
  let flaky: WebhookReceiver;
  let refusing: WebhookReceiver;

  beforeAll(async () => {
    t = await startTestFactory({ activityTimeouts: { heartbeatTimeoutMs: 3000 }, webhookAllowHosts: '127.0.0.1' });
    // Down for its first two attempts (503), then up.
    flaky = await startWebhookReceiver({ answer: (n) => (n <= 2 ? 503 : 200) });
    refusing = await startWebhookReceiver({ answer: () => 410 });
  });
  afterAll(async () => {
    await t?.stop();
    await flaky?.close();
    await refusing?.close();
  });

  it('admins add, list and delete webhooks; bad input gets clear codes', async () => {
    const viewer = await t.createKey('viewer');
    expect((await t.request('POST', '/v1/webhooks', { json: { url: flaky.url }, key: viewer })).status).toBe(403);
    const ftp = await t.request('POST', '/v1/webhooks', { json: { url: 'ftp://example.com/x' } });
    expect([ftp.status, await errorCode(ftp)]).toEqual([422, 'invalid_webhook_url']);
    const notUrl = await t.request('POST', '/v1/webhooks', { json: { url: 'hooks' } });
    expect([notUrl.status, await errorCode(notUrl)]).toEqual([422, 'invalid_webhook_url']);
    const badEvent = await t.request('POST', '/v1/webhooks', { json: { url: flaky.url, events: ['model.exploded'] } });
    expect([badEvent.status, await errorCode(badEvent)]).toEqual([422, 'invalid_request']);

    // Internal addresses are refused at registration (this factory allows only 127.0.0.1, for its receivers).
    for (const url of ['http://127.0.0.2/hooks', 'http://[::1]:8080/hooks', 'http://169.254.169.254/latest/meta-data', 'http://10.0.0.1/', 'http://[::ffff:192.168.0.1]/', 'http://100.64.0.1/', 'http://[fd00::1]/', 'http://0x0a000001/']) {
      const internal = await t.request('POST', '/v1/webhooks', { json: { url } });
      expect([url, internal.status, await errorCode(internal)]).toEqual([url, 422, 'webhook_address_forbidden']);
    }

    const created = await t.request('POST', '/v1/webhooks', { json: { url: 'https://203.0.113.7/hooks' } });
    expect(created.status).toBe(201);
    const { id, secret, events } = (await created.json()) as { id: string; secret: string; events: string[] };
    expect(secret).toMatch(/^whsec_[0-9a-f]{64}$/);
    expect(events).toContain('model_alias.promoted');
    const list = (await (await t.request('GET', '/v1/webhooks')).json()) as { webhooks: Record<string, unknown>[] };
    expect(list.webhooks).toEqual([expect.objectContaining({ id, url: 'https://203.0.113.7/hooks' })]);
    expect(list.webhooks[0]).not.toHaveProperty('secret');
    expect((await t.request('DELETE', `/v1/webhooks/${id}`)).status).toBe(204);
    const again = await t.request('DELETE', `/v1/webhooks/${id}`);
    expect([again.status, await errorCode(again)]).toEqual([404, 'webhook_not_found']);
    expect(((await (await t.request('GET', '/v1/webhooks')).json()) as { webhooks: unknown[] }).webhooks).toEqual([]);
  });

  it('a registered version reaches a receiver that was down, once, signed; a refusing receiver is not retried', async () => {
    const hook = await t.request('POST', '/v1/webhooks', { json: { url: flaky.url, events: ['model_version.created', 'model_version.blessed', 'model_version.rejected'] } });
    const { secret } = (await hook.json()) as { secret: string };
    await t.request('POST', '/v1/webhooks', { json: { url: refusing.url, events: ['model_version.created'] } });

    expect((await t.request('POST', '/v1/datasets/churn/versions?wait=true', { body: toCsv(churnRows(200)), contentType: 'text/csv' })).status).toBe(201);
    const start = await t.request('POST', '/v1/pipelines', {
      json: { dataset: 'churn', target: 'churned', features: ['tenure', 'spend'], model: { type: 'logistic', epochs: 10, learningRate: 0.1 }, endpoint: 'webhook-churn', registeredModel: 'churn' },
    });
    const { workflowId } = (await start.json()) as { workflowId: string };
    const final = await waitForWorkflow(t, workflowId);
    expect(final.status).toBe('COMPLETED');
    const versionId = (final.result as { modelVersion: { modelVersionId: string } }).modelVersion.modelVersionId;

    const created = await t.factory.client.workflow.getHandle<typeof deliverRegistryEvent>(registryEventWorkflowId(`model_version.created:${versionId}`)).result();
    const blessed = await t.factory.client.workflow.getHandle<typeof deliverRegistryEvent>(registryEventWorkflowId(`model_version.blessed:${versionId}`)).result();
    expect(created.deliveries.map((d) => d.status).sort()).toEqual(['delivered', 'failed']);
    expect(created.deliveries.find((d) => d.status === 'failed')?.error).toContain('answered 410');
    expect(blessed.deliveries.map((d) => d.status)).toEqual(['delivered']);

    expect(flaky.received.filter((r) => r.answered === 503)).toHaveLength(2);
    const accepted = flaky.received.filter((r) => r.answered === 200);
    expect(accepted.map((r) => r.headers['x-factory-event']).sort()).toEqual(['model_version.blessed', 'model_version.created']);
    for (const r of flaky.received) expect(validSignature(secret, r)).toBe(true);
    const bodies = accepted.map((r) => JSON.parse(r.body) as { id: string; type: string; deliveryId: string; model: { name: string; versionId: string; version: number } });
    expect(new Set(bodies.map((b) => b.deliveryId)).size).toBe(2);
    for (const [i, b] of bodies.entries()) {
      expect(b.model).toEqual({ name: 'churn', version: 1, versionId });
      expect(accepted[i]?.headers['x-factory-delivery']).toBe(b.deliveryId);
    }
    // A 410 is the receiver's final word: one attempt, no retries.
    expect(refusing.received.map((r) => r.answered)).toEqual([410]);

    // A version that is not blessed is announced as rejected, with the reason.
    const worse = await t.request('POST', '/v1/pipelines', {
      json: { dataset: 'churn', target: 'churned', features: ['noise'], model: { type: 'logistic', epochs: 5, learningRate: 0.1 }, endpoint: 'webhook-churn', registeredModel: 'churn', minAccuracy: 0.99 },
    });
    const rejectedRun = await waitForWorkflow(t, ((await worse.json()) as { workflowId: string }).workflowId);
    expect((rejectedRun.result as { stage: string }).stage).toBe('rejected');
    const rejectedId = (rejectedRun.result as { modelVersion: { modelVersionId: string } }).modelVersion.modelVersionId;
    const rejected = await t.factory.client.workflow.getHandle<typeof deliverRegistryEvent>(registryEventWorkflowId(`model_version.rejected:${rejectedId}`)).result();
    expect(rejected.deliveries.map((d) => d.status)).toEqual(['delivered']);
    const announced = flaky.received.filter((r) => r.headers['x-factory-event'] === 'model_version.rejected');
    expect(announced).toHaveLength(1);
    expect(JSON.parse(announced[0]?.body ?? '{}')).toMatchObject({ type: 'model_version.rejected', model: { name: 'churn', version: 2 }, data: { reasons: expect.arrayContaining([expect.stringContaining('0.99')]) as unknown } });
    expect(refusing.received).toHaveLength(2);

    await recordHistory(`${workflowId}/register`, 'register-model-registry-events.json');
    await recordHistory(registryEventWorkflowId(`model_version.created:${versionId}`), 'deliver-registry-event.json');
    expect(refusing.received[0]?.headers['x-factory-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
  });

  it('a promotion announces its decision and the alias move', async () => {
    const receiver = await startWebhookReceiver({ answer: () => 200 });
    try {
      const hook = await t.request('POST', '/v1/webhooks', { json: { url: receiver.url, events: ['promotion.approved', 'promotion.rejected', 'model_alias.promoted'] } });
      const { secret } = (await hook.json()) as { secret: string };
      const promote = await t.request('POST', '/v1/models/churn/aliases/staging', { json: { version: 1, reason: 'try it in staging' } });
      expect(promote.status).toBe(202);
      const { workflowId } = (await promote.json()) as { workflowId: string };
      expect((await waitForWorkflow(t, workflowId)).status).toBe('COMPLETED');

      const deadline = Date.now() + 30_000;
      while (receiver.received.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(receiver.received.map((r) => r.headers['x-factory-event']).sort()).toEqual(['model_alias.promoted', 'promotion.approved']);
      for (const r of receiver.received) expect(validSignature(secret, r)).toBe(true);
      const moved = JSON.parse(receiver.received.find((r) => r.headers['x-factory-event'] === 'model_alias.promoted')?.body ?? '{}') as {
        model: { name: string; version: number };
        data: { alias: string; fromVersionId: string | null; toVersionId: string };
      };
      expect(moved.model).toMatchObject({ name: 'churn', version: 1 });
      expect(moved.data).toMatchObject({ alias: 'staging', fromVersionId: null });
    } finally {
      await receiver.close();
    }
  });
});
