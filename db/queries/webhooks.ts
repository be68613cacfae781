import { and, eq, isNull } from 'drizzle-orm';
import type { Db } from '../client';
import { auditLog, webhooks, type RegistryEventType } from '../schema';
import { newId } from '../../platform/ids';

export type WebhookRow = typeof webhooks.$inferSelect;

export async function createWebhook(
  db: Db,
  input: { projectId: string; url: string; events: RegistryEventType[]; secret: string; actor: string },
): Promise<WebhookRow> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(webhooks)
      .values({ id: newId('whk'), projectId: input.projectId, url: input.url, events: input.events, secret: input.secret, createdBy: input.actor })
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
