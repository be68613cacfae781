import { and, eq, isNull } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { API_KEY_ROLES, apiKeys, auditLog } from '../../db/schema';
import { newId } from '../../lib/ids';
import { UserError } from '../../lib/user-error';
import { displayPrefix, generateApiKey, hashApiKey } from '../../runtime/api-keys';
import type { ApiDeps } from '../deps';
import type { ApiEnv } from '../env';
import { parseJsonBody } from '../json-body';
import { requireRole } from '../middleware/api-key-auth';

const createKeyRequest = z.object({ name: z.string().min(1).max(100), role: z.enum(API_KEY_ROLES) }).strict();

/** Admin only: issue (shown once), list and revoke the project's API keys. */
export function apiKeyRoutes(deps: ApiDeps) {
  const app = new Hono<ApiEnv>();
  app.use(requireRole('admin'));

  app.post('/', async (c) => {
    const body = await parseJsonBody(c, createKeyRequest);
    const auth = c.get('auth');
    const key = generateApiKey();
    const id = newId('key');
    await deps.db.insert(apiKeys).values({ id, projectId: auth.projectId, name: body.name, role: body.role, keyHash: hashApiKey(key), keyPrefix: displayPrefix(key) });
    await deps.db.insert(auditLog).values({ projectId: auth.projectId, actor: auth.keyId, action: 'api_key.created', subjectType: 'api_key', subjectId: id, details: { role: body.role } });
    return c.json({ id, name: body.name, role: body.role, key, note: 'Store this key now: it is not shown again.' }, 201);
  });

  app.get('/', async (c) => {
    const rows = await deps.db.select().from(apiKeys).where(eq(apiKeys.projectId, c.get('auth').projectId)).orderBy(apiKeys.createdAt);
    return c.json({ keys: rows.map((k) => ({ id: k.id, name: k.name, role: k.role, prefix: k.keyPrefix, createdAt: k.createdAt, revokedAt: k.revokedAt })) });
  });

  app.delete('/:id', async (c) => {
    const auth = c.get('auth');
    const id = c.req.param('id');
    if (id === auth.keyId) throw new UserError('cannot_revoke_own_key', 'You cannot revoke the key you are using; use another admin key.', 409);
    const revoked = await deps.db
      .update(apiKeys)
      .set({ revokedAt: new Date() })
      .where(and(eq(apiKeys.id, id), eq(apiKeys.projectId, auth.projectId), isNull(apiKeys.revokedAt)))
      .returning({ id: apiKeys.id });
    if (revoked.length === 0) throw new UserError('api_key_not_found', `No active API key ${id.slice(0, 60)} in this project.`, 404);
    await deps.db.insert(auditLog).values({ projectId: auth.projectId, actor: auth.keyId, action: 'api_key.revoked', subjectType: 'api_key', subjectId: id, details: {} });
    return c.body(null, 204);
  });

  return app;
}
