import { and, desc, eq } from 'drizzle-orm';
import type { Db } from '../client';
import { auditLog, modelAliasEvents, modelAliases, models, type ModelAlias } from '../schema';

/** A transaction or the database itself: moves compose into a caller's transaction. */
type Tx = Parameters<Parameters<Db['transaction']>[0]>[0] | Db;

export interface AliasMove {
  projectId: string;
  modelId: string;
  alias: ModelAlias;
  toVersionId: string;
  /** An API key id, or `workflow:<id>`. */
  actor: string;
  reason: string;
  workflowId: string | null;
  /** The same key twice moves once: a retried activity finds its own move. */
  idempotencyKey: string;
}

export interface AliasMoveResult {
  fromVersionId: string | null;
  toVersionId: string;
  /** False when this key's move had already happened. */
  moved: boolean;
}

/**
 * Points an alias at a version, atomically: the model row is locked for the transaction, so two moves of
 * its aliases serialise (the first move of an alias too), and the history row and audit entry commit with
 * the move or not at all. The primary key (model, alias) means at every instant at most one version holds an alias.
 */
export async function moveAlias(db: Db, move: AliasMove): Promise<AliasMoveResult> {
  return db.transaction((tx) => moveAliasIn(tx, move));
}

export async function moveAliasIn(tx: Tx, move: AliasMove): Promise<AliasMoveResult> {
  // Lock the model row first: the alias row does not exist before the first move, so locking it alone let
  // two first moves both read "held by nobody" and record from=null twice.
  await tx.select({ id: models.id }).from(models).where(eq(models.id, move.modelId)).for('update');
  const [done] = await tx.select().from(modelAliasEvents).where(eq(modelAliasEvents.idempotencyKey, move.idempotencyKey));
  if (done) return { fromVersionId: done.fromVersionId, toVersionId: done.toVersionId, moved: false };
  const [current] = await tx
    .select()
    .from(modelAliases)
    .where(and(eq(modelAliases.modelId, move.modelId), eq(modelAliases.alias, move.alias)))
    .for('update');
  const fromVersionId = current?.modelVersionId ?? null;
  await tx
    .insert(modelAliases)
    .values({ modelId: move.modelId, alias: move.alias, modelVersionId: move.toVersionId })
    .onConflictDoUpdate({ target: [modelAliases.modelId, modelAliases.alias], set: { modelVersionId: move.toVersionId, updatedAt: new Date() } });
  await tx.insert(modelAliasEvents).values({
    modelId: move.modelId,
    alias: move.alias,
    fromVersionId,
    toVersionId: move.toVersionId,
    actor: move.actor,
    reason: move.reason,
    workflowId: move.workflowId,
    idempotencyKey: move.idempotencyKey,
  });
  await tx.insert(auditLog).values({
    projectId: move.projectId,
    actor: move.actor,
    action: 'model_alias.moved',
    subjectType: 'model',
    subjectId: move.modelId,
    details: { alias: move.alias, from: fromVersionId, to: move.toVersionId, reason: move.reason, workflowId: move.workflowId },
  });
  return { fromVersionId, toVersionId: move.toVersionId, moved: true };
}

export type AliasEventRow = typeof modelAliasEvents.$inferSelect;

/** An alias's moves, newest first. */
export async function listAliasHistory(db: Db, modelId: string, alias: ModelAlias, limit = 100): Promise<AliasEventRow[]> {
  return db
    .select()
    .from(modelAliasEvents)
    .where(and(eq(modelAliasEvents.modelId, modelId), eq(modelAliasEvents.alias, alias)))
    .orderBy(desc(modelAliasEvents.id))
    .limit(limit);
}
