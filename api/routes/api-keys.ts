import { Hono } from 'hono';
import { z } from 'zod';
import { createApiKey, listApiKeys, revokeApiKey } from '../../db/queries/api-keys';
import { API_KEY_ROLES } from '../../db/schema';
import { UserError } from '../../platform/user-error';
import type { ApiDeps } from '../deps';
import type { ApiEnv } from '../env';
import { parseJsonBody } from '../json-body';
import { requireRole } from '../middleware/api-key-auth';

/** `owner` names the person or service the key belongs to: four eyes compare owners, so one person's keys count once. */
const createKeyRequest = z.object({ name: z.string().min(1).max(100), owner: z.string({ error: 'required; name the person or service this key belongs to (e.g. an e-mail), since approvals compare owners, not keys' }).trim().min(1).max(200), role: z.enum(API_KEY_ROLES) }).strict();

/** Admin only: issue (shown once), list and revoke the project's API keys. */
export function apiKeyRoutes(deps: ApiDeps) {
  const app = new Hono<ApiEnv>();
  app.use(requireRole('admin'));

  app.post('/', async (c) => {
    const body = await parseJsonBody(c, createKeyRequest);
    const auth = c.get('auth');
    const { id, key } = await createApiKey(deps.db, { projectId: auth.projectId, name: body.name, owner: body.owner, role: body.role, actor: auth.keyId });
    return c.json({ id, name: body.name, owner: body.owner, role: body.role, key, note: 'Store this key now: it is not shown again.' }, 201);
  });

  app.get('/', async (c) => {
    const rows = await listApiKeys(deps.db, c.get('auth').projectId);
    return c.json({ keys: rows.map((k) => ({ id: k.id, name: k.name, owner: k.owner, role: k.role, prefix: k.keyPrefix, createdAt: k.createdAt, revokedAt: k.revokedAt })) });
  });

  app.delete('/:id', async (c) => {
    const auth = c.get('auth');
    const id = c.req.param('id');
    if (id === auth.keyId) throw new UserError('cannot_revoke_own_key', 'You cannot revoke the key you are using; use another admin key.', 409);
    if (!(await revokeApiKey(deps.db, { projectId: auth.projectId, id, actor: auth.keyId }))) {
      throw new UserError('api_key_not_found', `No active API key ${id.slice(0, 60)} in this project.`, 404);
    }
    deps.apiKeyCache?.forgetKey(id);
    return c.body(null, 204);
  });

  return app;
}
