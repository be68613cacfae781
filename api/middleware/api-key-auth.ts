import type { MiddlewareHandler } from 'hono';
import type { Db } from '../../db/client';
import { findActiveApiKey } from '../../db/queries/api-keys';
import type { ApiKeyRole } from '../../db/schema';
import { UserError } from '../../platform/user-error';
import type { ApiEnv } from '../env';

/** `Authorization: Bearer <key>` → the key's project and role; keys are looked up by their sha256 only. */
export function apiKeyAuth({ db }: { db: Db }): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (!header) {
      throw new UserError('missing_api_key', "This route needs an API key: send it as 'Authorization: Bearer <key>'.", 401);
    }
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) {
      throw new UserError('malformed_authorization', "The Authorization header must be 'Bearer <key>'.", 401);
    }
    const key = await findActiveApiKey(db, match[1]);
    if (!key) throw new UserError('invalid_api_key', 'The API key is not valid or has been revoked; check the key you sent.', 401);
    c.set('auth', { projectId: key.projectId, keyId: key.id, role: key.role });
    await next();
  };
}

const RANK: Record<ApiKeyRole, number> = { viewer: 0, operator: 1, admin: 2 };

/** viewer reads; operator also ingests, trains and predicts; admin also manages keys. */
export function requireRole(role: ApiKeyRole): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const auth = c.get('auth');
    if (RANK[auth.role] < RANK[role]) {
      throw new UserError('forbidden', `This action needs the ${role} role; your API key has the ${auth.role} role.`, 403);
    }
    await next();
  };
}
