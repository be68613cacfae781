import { randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import { z } from 'zod';
import { createWebhook, deleteWebhook, listWebhooks, type WebhookRow } from '../../db/queries/webhooks';
import { REGISTRY_EVENT_TYPES } from '../../db/schema';
import { UserError } from '../../platform/user-error';
import { checkWebhookTarget, PUBLIC_ADDRESSES_ONLY, WebhookTargetRefused, type WebhookTargetPolicy } from '../../platform/webhook-targets';
import type { ApiDeps } from '../deps';
import type { ApiEnv } from '../env';
import { parseJsonBody } from '../json-body';
import { requireRole } from '../middleware/api-key-auth';

const createWebhookRequest = z
  .object({
    url: z.string().max(2000),
    events: z.array(z.enum(REGISTRY_EVENT_TYPES)).min(1, 'name at least one event, or leave events out for all of them').optional(),
  })
  .strict();

function checkUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UserError('invalid_webhook_url', `The webhook url "${raw.slice(0, 100)}" is not a URL; send an absolute http(s) URL.`, 422, { field: 'url' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UserError('invalid_webhook_url', `Webhooks are delivered over http or https, not ${url.protocol.replace(':', '')}; send an http(s) URL.`, 422, { field: 'url' });
  }
  return url.toString();
}

/** Refuses a URL whose host is or resolves to an internal address (unless the operator allowed it); deliveries check again. */
async function checkReachable(url: string, policy: WebhookTargetPolicy): Promise<void> {
  try {
    await checkWebhookTarget(new URL(url), policy);
  } catch (err) {
    if (err instanceof WebhookTargetRefused) throw new UserError(err.code, err.message, 422, { field: 'url' });
    throw err;
  }
}

function webhookBody(w: WebhookRow) {
  return { id: w.id, url: w.url, events: w.events, createdAt: w.createdAt };
}

/** Admin only: the project's registry webhooks; the signing secret is shown once, at creation. */
export function webhookRoutes(deps: ApiDeps) {
  const app = new Hono<ApiEnv>();
  app.use(requireRole('admin'));

  app.post('/', async (c) => {
    const body = await parseJsonBody(c, createWebhookRequest);
    const auth = c.get('auth');
    const url = checkUrl(body.url);
    await checkReachable(url, deps.webhookTargets ?? PUBLIC_ADDRESSES_ONLY);
    if (!deps.secretKey) {
      throw new UserError('secret_key_missing', 'Webhooks need FACTORY_SECRET_KEY (base64 of 32 bytes) to store their signing secrets encrypted; ask the operator to set it.', 409);
    }
    const secret = `whsec_${randomBytes(32).toString('hex')}`;
    const events = [...new Set(body.events ?? REGISTRY_EVENT_TYPES)];
    const row = await createWebhook(deps.db, { projectId: auth.projectId, url, events, secret, secretKey: deps.secretKey, actor: auth.keyId });
    return c.json(
      {
        ...webhookBody(row),
        secret,
        signature: 'X-Factory-Signature: sha256=<hex HMAC-SHA256 of "<X-Factory-Timestamp>.<raw body>" with this secret>',
        note: 'Store this secret now: it is not shown again.',
      },
      201,
    );
  });

  app.get('/', async (c) => c.json({ webhooks: (await listWebhooks(deps.db, c.get('auth').projectId)).map(webhookBody) }));

  app.delete('/:id', async (c) => {
    const auth = c.get('auth');
    const id = c.req.param('id');
    if (!(await deleteWebhook(deps.db, { projectId: auth.projectId, id, actor: auth.keyId }))) {
      throw new UserError('webhook_not_found', `No webhook ${id.slice(0, 60)} in this project; GET /v1/webhooks lists them.`, 404);
    }
    return c.body(null, 204);
  });

  return app;
}
