import { and, eq, isNull } from 'drizzle-orm';
import type { Db } from '../client';
import { idempotencyKeys } from '../schema';

export type IdempotencyRecord = typeof idempotencyKeys.$inferSelect;

interface KeyRef {
  projectId: string;
  key: string;
}

/**
 * Claims a key with one INSERT … ON CONFLICT DO NOTHING, so of any number of concurrent requests exactly one
 * gets `claimed: true`; the others get the row the winner wrote.
 */
export async function claimIdempotencyKey(
  db: Db,
  claim: KeyRef & { route: string; requestHash: string },
): Promise<{ claimed: true; createdAt: Date } | { claimed: false; record: IdempotencyRecord }> {
  // The API's clock, not the database's: a route reads "until now" from it.
  const [inserted] = await db.insert(idempotencyKeys).values({ ...claim, createdAt: new Date() }).onConflictDoNothing().returning({ createdAt: idempotencyKeys.createdAt });
  if (inserted) return { claimed: true, createdAt: inserted.createdAt };
  const record = await findIdempotencyRecord(db, claim);
  // The row was released between our insert and this read: claim again.
  return record ? { claimed: false, record } : claimIdempotencyKey(db, claim);
}

export async function findIdempotencyRecord(db: Db, ref: KeyRef): Promise<IdempotencyRecord | undefined> {
  const [record] = await db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.projectId, ref.projectId), eq(idempotencyKeys.key, ref.key)));
  return record;
}

/** Records the answer once; a later writer (a retry that ran after a crash) leaves the first answer in place. */
export async function recordIdempotentResponse(db: Db, ref: KeyRef & { status: number; response: Record<string, unknown>; workflowId: string | null }): Promise<void> {
  await db
    .update(idempotencyKeys)
    .set({ status: ref.status, response: ref.response, workflowId: ref.workflowId, completedAt: new Date() })
    .where(and(eq(idempotencyKeys.projectId, ref.projectId), eq(idempotencyKeys.key, ref.key), isNull(idempotencyKeys.status)));
}

/** Frees a key whose request failed before it answered, so the client can fix the request and retry with it. */
export async function releaseIdempotencyKey(db: Db, ref: KeyRef): Promise<void> {
  await db
    .delete(idempotencyKeys)
    .where(and(eq(idempotencyKeys.projectId, ref.projectId), eq(idempotencyKeys.key, ref.key), isNull(idempotencyKeys.status)));
}
