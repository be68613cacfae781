import { and, eq, isNull } from 'drizzle-orm';
import type { Db } from '../client';
import { apiKeys, auditLog, type ApiKeyRole } from '../schema';
import { newId } from '../../platform/ids';
import { displayPrefix, generateApiKey, hashApiKey } from '../../platform/api-keys';

export type ApiKeyRow = typeof apiKeys.$inferSelect;

/** The active key whose secret has this sha256 (hashApiKey): keys are looked up by their hash only. */
export async function findActiveApiKeyByHash(db: Db, keyHash: string): Promise<Pick<ApiKeyRow, 'id' | 'projectId' | 'role' | 'owner'> | undefined> {
  const [key] = await db.select({ id: apiKeys.id, projectId: apiKeys.projectId, role: apiKeys.role, owner: apiKeys.owner }).from(apiKeys).where(and(eq(apiKeys.keyHash, keyHash), isNull(apiKeys.revokedAt)));
  return key;
}

/** Issues a key and audits it in one transaction: no key exists without its audit row. Returns the secret once. */
export async function createApiKey(db: Db, input: { projectId: string; name: string; owner: string; role: ApiKeyRole; actor: string }): Promise<{ id: string; key: string }> {
  const key = generateApiKey();
  const id = newId('key');
  await db.transaction(async (tx) => {
    await tx.insert(apiKeys).values({ id, projectId: input.projectId, name: input.name, owner: input.owner, role: input.role, keyHash: hashApiKey(key), keyPrefix: displayPrefix(key) });
    await tx.insert(auditLog).values({ projectId: input.projectId, actor: input.actor, action: 'api_key.created', subjectType: 'api_key', subjectId: id, details: { name: input.name, owner: input.owner, role: input.role } });
  });
  return { id, key };
}

/** Revokes an active key of the project and audits it in one transaction; false when there was none. */
export async function revokeApiKey(db: Db, input: { projectId: string; id: string; actor: string }): Promise<boolean> {
  return db.transaction(async (tx) => {
    const revoked = await tx
      .update(apiKeys)
      .set({ revokedAt: new Date() })
      .where(and(eq(apiKeys.id, input.id), eq(apiKeys.projectId, input.projectId), isNull(apiKeys.revokedAt)))
      .returning({ id: apiKeys.id });
    if (revoked.length === 0) return false;
    await tx.insert(auditLog).values({ projectId: input.projectId, actor: input.actor, action: 'api_key.revoked', subjectType: 'api_key', subjectId: input.id, details: {} });
    return true;
  });
}

export async function listApiKeys(db: Db, projectId: string): Promise<ApiKeyRow[]> {
  return db.select().from(apiKeys).where(eq(apiKeys.projectId, projectId)).orderBy(apiKeys.createdAt);
}

/**
 * The principal behind an actor: a key id → that key's owner (revoked keys too, so a decision stays attributable);
 * anything else (`workflow:<id>`, `timeout`) is no person and has no owner.
 */
export async function ownerOfActor(db: Db, projectId: string, actor: string): Promise<string | null> {
  const [key] = await db.select({ owner: apiKeys.owner }).from(apiKeys).where(and(eq(apiKeys.id, actor), eq(apiKeys.projectId, projectId)));
  return key?.owner ?? null;
}
