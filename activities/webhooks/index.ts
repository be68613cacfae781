import { ApplicationFailure } from '@temporalio/common';
import { findWebhook, webhooksFor } from '../../db/queries/webhooks';
import type { RegistryEvent } from '../../domain/registry-events';
import type { ActivityDeps } from '../deps';
import { webhookSignature } from './sign';

/** Longest a receiver may take to answer one delivery attempt. */
const DELIVERY_TIMEOUT_MS = 10_000;

export interface WebhookDelivery {
  webhookId: string;
  /** Stable across retries, so a receiver can drop a duplicate. */
  deliveryId: string;
  event: RegistryEvent;
}

export interface WebhookDeliveryResult {
  status: 'delivered' | 'skipped';
  httpStatus: number | null;
}

/** Receiver answers worth retrying: timeouts, rate limits and server errors. */
function retryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

export function createWebhookActivities(deps: ActivityDeps) {
  return {
    /** The ids of the project's webhooks that subscribe to this event (never their secrets: those stay out of histories). */
    async listWebhookSubscriptions(input: { projectId: string; eventType: RegistryEvent['type'] }): Promise<{ webhookId: string }[]> {
      return (await webhooksFor(deps.db, input.projectId, input.eventType)).map((w) => ({ webhookId: w.id }));
    },

    /** One signed POST; throws to be retried while the receiver is down, and fails for good on its other 4xx. */
    async deliverWebhook(delivery: WebhookDelivery): Promise<WebhookDeliveryResult> {
      const webhook = await findWebhook(deps.db, delivery.webhookId);
      if (!webhook || webhook.deletedAt) return { status: 'skipped', httpStatus: null };
      const { projectId: _projectId, ...event } = delivery.event;
      const body = JSON.stringify({ ...event, deliveryId: delivery.deliveryId });
      const timestamp = String(Math.floor(Date.now() / 1000));
      const response = await fetch(webhook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'ai-factory-webhooks',
          'x-factory-event': delivery.event.type,
          'x-factory-delivery': delivery.deliveryId,
          'x-factory-timestamp': timestamp,
          'x-factory-signature': webhookSignature(webhook.secret, timestamp, body),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
      });
      await response.body?.cancel();
      if (response.ok) return { status: 'delivered', httpStatus: response.status };
      const message = `webhook ${webhook.id} answered ${response.status} to ${delivery.event.type} delivery ${delivery.deliveryId}`;
      if (retryable(response.status)) throw ApplicationFailure.retryable(message, 'WebhookReceiverUnavailable');
      throw ApplicationFailure.nonRetryable(`${message}; not retried: fix the receiver and the next event will arrive`, 'WebhookRejected');
    },
  };
}
