import { createHmac } from 'node:crypto';

/** `sha256=<hex>` HMAC of `<timestamp>.<raw body>`: the timestamp is signed so a captured request can't be replayed later. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}
