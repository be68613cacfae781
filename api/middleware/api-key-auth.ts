import type { MiddlewareHandler } from 'hono';
import type { Db } from '../../db/client';
import { findActiveApiKeyByHash } from '../../db/queries/api-keys';
import type { ApiKeyRole } from '../../db/schema';
import { hashApiKey } from '../../platform/api-keys';
import { UserError } from '../../platform/user-error';
import type { ApiEnv, AuthContext } from '../env';

type CachedKey = Omit<AuthContext, 'keyId'> & { id: string };

/**
 * Active API keys by sha256, reused for `ttlMs` so a predict does not read api_keys. A revoke through this
 * process's API takes effect here at once (`forgetKey`); on other API processes the revoked key keeps
 * working until their entry expires, at most `ttlMs` (FACTORY_API_KEY_CACHE_TTL_MS, 5 s by default).
 * Unknown keys are not cached, so a key created a moment ago works at once everywhere.
 */
export class ApiKeyCache {
  private readonly entries = new Map<string, { key: CachedKey; expires: number }>();

  constructor(
    readonly ttlMs: number,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(hash: string): CachedKey | undefined {
    const hit = this.entries.get(hash);
    if (!hit) return undefined;
    if (hit.expires > this.now()) return hit.key;
    this.entries.delete(hash);
    return undefined;
  }

  set(hash: string, key: CachedKey): void {
    if (this.ttlMs <= 0) return;
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(hash, { key, expires: this.now() + this.ttlMs });
  }

  /** Drops a revoked key (by id: its hash is not known to the revoke route). */
  forgetKey(keyId: string): void {
    for (const [hash, { key }] of this.entries) if (key.id === keyId) this.entries.delete(hash);
  }
}

/** `Authorization: Bearer <key>` → the key's project and role; keys are looked up by their sha256 only. */
export function apiKeyAuth({ db, cache }: { db: Db; cache?: ApiKeyCache }): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (!header) {
      throw new UserError('missing_api_key', "This route needs an API key: send it as 'Authorization: Bearer <key>'.", 401);
    }
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) {
      throw new UserError('malformed_authorization', "The Authorization header must be 'Bearer <key>'.", 401);
    }
    const hash = hashApiKey(match[1]);
    let key = cache?.get(hash);
    if (!key) {
      key = await findActiveApiKeyByHash(db, hash);
      if (key) cache?.set(hash, key);
    }
    if (!key) throw new UserError('invalid_api_key', 'The API key is not valid or has been revoked; check the key you sent.', 401);
    c.set('auth', { projectId: key.projectId, keyId: key.id, role: key.role, owner: key.owner });
    await next();
  };
}

/** What a key may do; each role is an explicit set, so a role outside the viewer < operator < admin line (approver) fits. */
export type Permission = 'read' | 'operate' | 'administer' | 'approve';

const PERMISSIONS: Record<ApiKeyRole, readonly Permission[]> = {
  viewer: ['read'],
  operator: ['read', 'operate'],
  admin: ['read', 'operate', 'administer', 'approve'],
  approver: ['read', 'approve'],
};

/** The permission that stood for each role when roles were ranked: requireRole('operator') still means "operate". */
const ROLE_PERMISSION: Record<ApiKeyRole, Permission> = { viewer: 'read', operator: 'operate', admin: 'administer', approver: 'approve' };

export function hasPermission(role: ApiKeyRole, permission: Permission): boolean {
  return PERMISSIONS[role].includes(permission);
}

/** The roles that hold a permission, for error messages: "admin or approver". */
function rolesWith(permission: Permission): string {
  return (Object.keys(PERMISSIONS) as ApiKeyRole[]).filter((r) => hasPermission(r, permission)).join(' or ');
}

/** viewer reads; operator also ingests, trains and predicts; admin also manages keys; approver reads and decides approvals. */
export function requireRole(role: ApiKeyRole): MiddlewareHandler<ApiEnv> {
  return requirePermission(ROLE_PERMISSION[role], role);
}

export function requirePermission(permission: Permission, roleName?: string): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const auth = c.get('auth');
    if (!hasPermission(auth.role, permission)) {
      const needed = roleName && permission !== 'approve' ? `the ${roleName} role` : `the ${rolesWith(permission)} role`;
      throw new UserError('forbidden', `This action needs ${needed}; your API key has the ${auth.role} role.`, 403);
    }
    await next();
  };
}
