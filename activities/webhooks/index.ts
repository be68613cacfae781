import { ApplicationFailure } from '@temporalio/common';
import { findWebhook, webhookSigningSecret, webhooksFor } from '../../db/queries/webhooks';
import { PUBLIC_ADDRESSES_ONLY, WebhookTargetRefused } from '../../platform/webhook-targets';
import type { RegistryEvent } from '../../domain/registry-events';
import type { ActivityDeps } from '../deps';
import { postToWebhook } from './post-pinned';
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
      if (!deps.secretKey) throw ApplicationFailure.nonRetryable('this worker has no FACTORY_SECRET_KEY to open webhook secrets; set it on every worker', 'WebhookSecretKeyMissing');
      const timestamp = String(Math.floor(Date.now() / 1000));
      const headers = {
        'content-type': 'application/json',
        'user-agent': 'ai-factory-webhooks',
        'x-factory-event': delivery.event.type,
        'x-factory-delivery': delivery.deliveryId,
        'x-factory-timestamp': timestamp,
        'x-factory-signature': webhookSignature(webhookSigningSecret(webhook, deps.secretKey), timestamp, body),
      };
      let response;
      try {
        // Resolved and checked at every delivery: DNS may have changed since the webhook was registered.
        response = await postToWebhook(webhook.url, { headers, body, timeoutMs: DELIVERY_TIMEOUT_MS }, deps.webhookTargets ?? PUBLIC_ADDRESSES_ONLY);
      } catch (err) {
        if (err instanceof WebhookTargetRefused && err.code === 'webhook_address_forbidden') {
          throw ApplicationFailure.nonRetryable(`webhook ${webhook.id}: ${err.message}`, 'WebhookAddressForbidden');
        }
        throw err;
      }
      const ok = response.status >= 200 && response.status < 300;
      if (response.status >= 300 && response.status < 400) {
        throw ApplicationFailure.nonRetryable(
          `webhook ${webhook.id} answered ${response.status} with a redirect to ${response.location ?? '(no Location)'}: deliveries do not follow redirects (one could lead to an internal address); register the final URL`,
          'WebhookRedirectRefused',
        );
      }
      if (ok) return { status: 'delivered', httpStatus: response.status };
      const message = `webhook ${webhook.id} answered ${response.status} to ${delivery.event.type} delivery ${delivery.deliveryId}`;
      if (retryable(response.status)) throw ApplicationFailure.retryable(message, 'WebhookReceiverUnavailable');
      throw ApplicationFailure.nonRetryable(`${message}; not retried: fix the receiver and the next event will arrive`, 'WebhookRejected');
    },
  };
}
