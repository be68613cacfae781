import { log, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { RegistryEvent } from '../domain/registry-events';
import { databaseActivityOptions, webhookDeliveryActivityOptions, type WebhookRetry } from './activity-options';
import { rootCauseMessage } from './contracts';

const { listWebhookSubscriptions } = proxyActivities<Activities>(databaseActivityOptions);

export interface RegistryEventDelivery {
  webhookId: string;
  deliveryId: string;
  status: 'delivered' | 'skipped' | 'failed';
  error: string | null;
}

/** Sends one registry event to each subscribed webhook, each in its own retried activity. */
export async function deliverRegistryEvent(event: RegistryEvent, retry?: WebhookRetry): Promise<{ eventId: string; deliveries: RegistryEventDelivery[] }> {
  const { deliverWebhook } = proxyActivities<Activities>(webhookDeliveryActivityOptions(retry));
  const subscriptions = await listWebhookSubscriptions({ projectId: event.projectId, eventType: event.type });
  const deliveries = await Promise.all(
    subscriptions.map(async ({ webhookId }): Promise<RegistryEventDelivery> => {
      const deliveryId = `${event.id}:${webhookId}`;
      try {
        const result = await deliverWebhook({ webhookId, deliveryId, event });
        return { webhookId, deliveryId, status: result.status, error: null };
      } catch (err) {
        // One receiver refusing (4xx) or gone for days must not stop the others' deliveries.
        log.warn('webhook delivery failed', { webhookId, deliveryId, error: rootCauseMessage(err) });
        return { webhookId, deliveryId, status: 'failed', error: rootCauseMessage(err) };
      }
    }),
  );
  return { eventId: event.id, deliveries };
}
