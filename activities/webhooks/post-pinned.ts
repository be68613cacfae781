import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { checkWebhookTarget, type ResolvedAddress, type WebhookTargetPolicy } from '../../platform/webhook-targets';

export interface WebhookAnswer {
  status: number;
  /** The Location of a redirect, which is never followed. */
  location: string | undefined;
}

/**
 * Checks the URL's addresses, then POSTs to the checked address itself (TLS still verifies the host name).
 * Redirects are answered, not followed: a public receiver could otherwise redirect to an internal address.
 */
export async function postToWebhook(
  url: string,
  request: { headers: Record<string, string>; body: string; timeoutMs: number },
  policy: WebhookTargetPolicy,
): Promise<WebhookAnswer> {
  const target = new URL(url);
  const pinned = await checkWebhookTarget(target, policy);
  return post(target, pinned, request);
}

function post(target: URL, pinned: ResolvedAddress, request: { headers: Record<string, string>; body: string; timeoutMs: number }): Promise<WebhookAnswer> {
  const client = target.protocol === 'https:' ? https : http;
  // Node asks with `all: true` when it may try several addresses (autoSelectFamily): answer in both shapes.
  const lookup = ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options.all) callback(null, [pinned]);
    else callback(null, pinned.address, pinned.family);
  }) as LookupFunction;
  return new Promise((resolve, reject) => {
    const req = client.request(
      target,
      { method: 'POST', headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) }, lookup, signal: AbortSignal.timeout(request.timeoutMs), agent: false },
      (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, location: res.headers.location });
      },
    );
    req.on('error', reject);
    req.end(request.body);
  });
}
