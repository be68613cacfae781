import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../activities/deps';
import { createWebhookActivities } from '../../activities/webhooks';
import { createWebhook, sealPlaintextWebhookSecrets } from '../../db/queries/webhooks';
import { webhooks } from '../../db/schema';
import type { RegistryEvent } from '../../domain/registry-events';
import { newId } from '../../platform/ids';
import { parseWebhookAllowList, systemResolver, type HostResolver } from '../../platform/webhook-targets';
import { openRetrainHome, type RetrainHome } from '../support/retrain-fixtures';
import { startWebhookReceiver, type ReceivedDelivery, type WebhookReceiver } from '../support/webhook-receiver';

const signatureOf = (secret: string, r: Pick<ReceivedDelivery, 'headers' | 'body'>) =>
  `sha256=${createHmac('sha256', secret).update(`${String(r.headers['x-factory-timestamp'])}.${r.body}`).digest('hex')}`;

/** deliverWebhook with the real database and real sockets: where it may connect, and with which secret it signs. */
describe('webhook delivery', () => {
  let home: RetrainHome;
  const secretKey = randomBytes(32);
  let loopback: WebhookReceiver;
  let otherLoopback: WebhookReceiver;
  beforeAll(async () => {
    home = await openRetrainHome('webhook-delivery');
    loopback = await startWebhookReceiver();
    // The same port on another loopback address: where a rebinding DNS answer would lead.
    otherLoopback = await startWebhookReceiver({ host: '127.0.0.2', port: loopback.port });
  });
  afterAll(async () => {
    await loopback?.close();
    await otherLoopback?.close();
    await home?.close();
  });

  const event = (): RegistryEvent => ({ id: `model_version.created:${randomUUID()}`, type: 'model_version.created', projectId: home.projectId, occurredAt: new Date().toISOString(), model: { name: 'churn' }, data: {} });
  const deliver = (webhookId: string, opts: { allowHosts?: string; resolve?: HostResolver } = {}) => {
    const deps = { db: home.database.db, secretKey, webhookTargets: { allow: parseWebhookAllowList(opts.allowHosts).allow, resolve: opts.resolve ?? systemResolver } } as unknown as ActivityDeps;
    const env = new MockActivityEnvironment({ workflowExecution: { workflowId: `deliver-${randomUUID()}`, runId: randomUUID() } }, { logger: new DefaultLogger('ERROR') });
    return env.run(() => createWebhookActivities(deps).deliverWebhook({ webhookId, deliveryId: randomUUID(), event: event() }));
  };
  const register = async (url: string) => {
    const secret = `whsec_${randomBytes(32).toString('hex')}`;
    const row = await createWebhook(home.database.db, { projectId: home.projectId, url, events: ['model_version.created'], secret, secretKey, actor: 'test' });
    return { id: row.id, secret };
  };

  it('stores the secret encrypted, and deliveries are still signed with it', async () => {
    const { id, secret } = await register(`http://127.0.0.1:${loopback.port}/hooks`);
    const [row] = await home.database.db.select().from(webhooks).where(eq(webhooks.id, id));
    expect(row?.secret).not.toContain(secret);
    expect(row?.secret).not.toContain(secret.slice('whsec_'.length, 30));
    expect(row?.secret).toMatch(/^aes256gcm:v1:/);

    const before = loopback.received.length;
    expect(await deliver(id, { allowHosts: '127.0.0.1' })).toEqual({ status: 'delivered', httpStatus: 200 });
    const got = loopback.received.slice(before);
    expect(got).toHaveLength(1);
    expect(got[0]?.headers['x-factory-signature']).toBe(signatureOf(secret, got[0] ?? { headers: {}, body: '' }));
  });

  it('a row from before encryption is sealed at start-up and still signs with the same secret', async () => {
    const id = newId('whk');
    const secret = `whsec_${randomBytes(32).toString('hex')}`;
    await home.database.db.insert(webhooks).values({ id, projectId: home.projectId, url: `http://127.0.0.1:${loopback.port}/legacy`, events: ['model_version.created'], secret, createdBy: 'test' });
    expect(await sealPlaintextWebhookSecrets(home.database.db, secretKey)).toBe(1);
    expect(await sealPlaintextWebhookSecrets(home.database.db, secretKey)).toBe(0);
    const [row] = await home.database.db.select().from(webhooks).where(eq(webhooks.id, id));
    expect(row?.secret).not.toContain(secret);
    const before = loopback.received.length;
    await deliver(id, { allowHosts: '127.0.0.1' });
    const got = loopback.received[before];
    expect(got?.headers['x-factory-signature']).toBe(signatureOf(secret, got ?? { headers: {}, body: '' }));
  });

  it('refuses a loopback receiver nobody allowed, without connecting', async () => {
    const { id } = await register(`http://127.0.0.1:${loopback.port}/hooks`);
    const before = loopback.received.length;
    await expect(deliver(id)).rejects.toMatchObject({ type: 'WebhookAddressForbidden', nonRetryable: true });
    const viaLocalhost = await register(`http://localhost:${loopback.port}/hooks`);
    await expect(deliver(viaLocalhost.id)).rejects.toMatchObject({ type: 'WebhookAddressForbidden' });
    expect(loopback.received.length).toBe(before);
  });

  it('connects to the address it checked, even when DNS answers differently a moment later (rebinding)', async () => {
    const { id } = await register(`http://rebind.test:${loopback.port}/hooks`);
    let lookups = 0;
    // First answer an allowed address, then an internal one nobody allowed.
    const rebinding: HostResolver = () => Promise.resolve([{ address: lookups++ === 0 ? '127.0.0.1' : '127.0.0.2', family: 4 }]);
    const before = loopback.received.length;
    expect(await deliver(id, { allowHosts: '127.0.0.1', resolve: rebinding })).toMatchObject({ status: 'delivered' });
    expect(lookups).toBe(1);
    expect(loopback.received.length).toBe(before + 1);
    // The next delivery resolves again, gets the internal address, and refuses it.
    await expect(deliver(id, { allowHosts: '127.0.0.1', resolve: rebinding })).rejects.toMatchObject({ type: 'WebhookAddressForbidden' });
    expect(otherLoopback.received).toHaveLength(0);
  });

  it('does not follow a redirect, which could lead to an internal address', async () => {
    const redirecting = await startWebhookReceiver({ answer: () => ({ status: 307, location: `http://127.0.0.2:${loopback.port}/internal` }) });
    try {
      const { id } = await register(`http://127.0.0.1:${redirecting.port}/hooks`);
      await expect(deliver(id, { allowHosts: '127.0.0.1' })).rejects.toMatchObject({ type: 'WebhookRedirectRefused', nonRetryable: true });
      expect(redirecting.received).toHaveLength(1);
      expect(otherLoopback.received).toHaveLength(0);
    } finally {
      await redirecting.close();
    }
  });
});
