import { randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import { z } from 'zod';
import { createWebhook, deleteWebhook, listWebhooks, type WebhookRow } from '../../db/queries/webhooks';
import { REGISTRY_EVENT_TYPES } from '../../db/schema';
import { UserError } from '../../platform/user-error';
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
    const secret = `whsec_${randomBytes(32).toString('hex')}`;
    const events = [...new Set(body.events ?? REGISTRY_EVENT_TYPES)];
    const row = await createWebhook(deps.db, { projectId: auth.projectId, url, events, secret, actor: auth.keyId });
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
