import { and, eq, isNull, notLike } from 'drizzle-orm';
import type { Db } from '../client';
import { auditLog, webhooks, type RegistryEventType } from '../schema';
import { newId } from '../../platform/ids';
import { isSealed, openSecret, sealSecret } from '../../platform/secret-box';

export type WebhookRow = typeof webhooks.$inferSelect;

/** Stores the webhook with its signing secret sealed under `secretKey` (bound to the webhook's id). */
export async function createWebhook(
  db: Db,
  input: { projectId: string; url: string; events: RegistryEventType[]; secret: string; secretKey: Buffer; actor: string },
): Promise<WebhookRow> {
  const id = newId('whk');
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(webhooks)
      .values({ id, projectId: input.projectId, url: input.url, events: input.events, secret: sealSecret(input.secretKey, input.secret, id), createdBy: input.actor })
      .returning();
    if (!row) throw new Error('webhook was not written');
    await tx.insert(auditLog).values({
      projectId: input.projectId,
      actor: input.actor,
      action: 'webhook.created',
      subjectType: 'webhook',
      subjectId: row.id,
      details: { url: input.url, events: input.events },
    });
    return row;
  });
}

export async function listWebhooks(db: Db, projectId: string): Promise<WebhookRow[]> {
  return db
    .select()
    .from(webhooks)
    .where(and(eq(webhooks.projectId, projectId), isNull(webhooks.deletedAt)))
    .orderBy(webhooks.createdAt);
}

/** False when the project has no such live webhook. */
export async function deleteWebhook(db: Db, input: { projectId: string; id: string; actor: string }): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(webhooks)
      .set({ deletedAt: new Date() })
      .where(and(eq(webhooks.projectId, input.projectId), eq(webhooks.id, input.id), isNull(webhooks.deletedAt)))
      .returning({ id: webhooks.id });
    if (!row) return false;
    await tx.insert(auditLog).values({ projectId: input.projectId, actor: input.actor, action: 'webhook.deleted', subjectType: 'webhook', subjectId: row.id, details: {} });
    return true;
  });
}

/** The live webhooks of a project that subscribe to an event type. */
export async function webhooksFor(db: Db, projectId: string, eventType: RegistryEventType): Promise<WebhookRow[]> {
  return (await listWebhooks(db, projectId)).filter((w) => w.events.includes(eventType));
}

/** A webhook by id, live or deleted (a delivery queued before a delete finds it deleted and stops). */
export async function findWebhook(db: Db, id: string): Promise<WebhookRow | undefined> {
  const [row] = await db.select().from(webhooks).where(eq(webhooks.id, id));
  return row;
}

/** The secret a delivery signs with; rows written before encryption hold it in clear and are read as they are. */
export function webhookSigningSecret(row: Pick<WebhookRow, 'id' | 'secret'>, secretKey: Buffer): string {
  return openSecret(secretKey, row.secret, row.id);
}

/** Seals the secrets of rows written before encryption (run at start-up; SQL alone cannot encrypt). Returns how many. */
export async function sealPlaintextWebhookSecrets(db: Db, secretKey: Buffer): Promise<number> {
  const plain = await db.select({ id: webhooks.id, secret: webhooks.secret }).from(webhooks).where(notLike(webhooks.secret, 'aes256gcm:%'));
  let sealed = 0;
  for (const row of plain) {
    if (isSealed(row.secret)) continue;
    // Compare-and-set: a row sealed meanwhile by another process is left alone.
    const done = await db
      .update(webhooks)
      .set({ secret: sealSecret(secretKey, row.secret, row.id) })
      .where(and(eq(webhooks.id, row.id), eq(webhooks.secret, row.secret)))
      .returning({ id: webhooks.id });
    sealed += done.length;
  }
  return sealed;
}
