import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { auditLog, endpoints, feedbackLabels, modelVersions, predictions, type ModelOutputSchema } from '../schema';
import { UserError } from '../../platform/user-error';

export type FeedbackLabel = string | number;

export interface FeedbackItem {
  predictionId: string;
  label: FeedbackLabel;
}

export interface FeedbackOutcome {
  /** Labels stored for the first time. */
  created: number;
  /** Labels that replaced a different earlier label (last write wins; the change is audited). */
  changed: number;
  /** Labels equal to the one already stored. */
  unchanged: number;
  /** Ids with no prediction in this project: reported back, never silently dropped. */
  unknown: string[];
}

/**
 * Attaches ground-truth labels to logged predictions of the project in one transaction: every label is checked
 * against its model version's task first (a bad one fails the whole request, nothing written), then stored with
 * last-write-wins, and every new or changed label gets an audit row with its previous value.
 */
export async function recordFeedback(db: Db, input: { projectId: string; actor: string; items: FeedbackItem[] }): Promise<FeedbackOutcome> {
  // A repeated id in one request: its last label counts, as a later request's would.
  const latest = new Map<string, { label: FeedbackLabel }>();
  for (const item of input.items) latest.set(item.predictionId, { label: item.label });
  const ids = [...latest.keys()];

  return db.transaction(async (tx) => {
    const found = await tx
      .select({ id: predictions.id, outputSchema: modelVersions.outputSchema, previous: feedbackLabels.label })
      .from(predictions)
      .innerJoin(endpoints, eq(endpoints.id, predictions.endpointId))
      .innerJoin(modelVersions, eq(modelVersions.id, predictions.modelVersionId))
      .leftJoin(feedbackLabels, eq(feedbackLabels.predictionId, predictions.id))
      .where(and(inArray(predictions.id, ids), eq(endpoints.projectId, input.projectId)));
    const byId = new Map(found.map((row) => [row.id, row]));

    input.items.forEach((item, index) => {
      const row = byId.get(item.predictionId);
      if (row) checkLabel(row.outputSchema, item.label, index);
    });

    let created = 0;
    let changed = 0;
    let unchanged = 0;
    const writes: { predictionId: string; label: FeedbackLabel; previous: FeedbackLabel | null }[] = [];
    for (const [predictionId, { label }] of latest) {
      const row = byId.get(predictionId);
      if (!row) continue;
      if (row.previous === null) created += 1;
      else if (row.previous === label) {
        unchanged += 1;
        continue;
      } else changed += 1;
      writes.push({ predictionId, label, previous: row.previous });
    }
    if (writes.length > 0) {
      await tx
        .insert(feedbackLabels)
        .values(writes.map(({ predictionId, label }) => ({ predictionId, label })))
        .onConflictDoUpdate({ target: feedbackLabels.predictionId, set: { label: sql`excluded.label`, updatedAt: sql`now()` } });
      await tx.insert(auditLog).values(
        writes.map((w) => ({
          projectId: input.projectId,
          actor: input.actor,
          action: w.previous === null ? 'feedback.labelled' : 'feedback.relabelled',
          subjectType: 'prediction',
          subjectId: w.predictionId,
          details: { label: w.label, previous: w.previous },
        })),
      );
    }
    return { created, changed, unchanged, unknown: ids.filter((id) => !byId.has(id)) };
  });
}

/** A label must be what the model predicts: one of its classes (as the user wrote them), or a finite number for regression. */
function checkLabel(schema: ModelOutputSchema, label: FeedbackLabel, index: number): void {
  const field = `feedback[${index}].label`;
  if (schema.name === 'value') {
    if (typeof label !== 'number' || !Number.isFinite(label)) {
      throw new UserError('invalid_label', `${field} must be a finite number: the prediction came from a regression model.`, 422, { field });
    }
    return;
  }
  const expected = schema.labelType;
  if (typeof label !== expected || !schema.classes.includes(String(label))) {
    const classes = schema.classes.map((c) => (expected === 'number' ? c : JSON.stringify(c))).join(', ');
    throw new UserError('invalid_label', `${field} must be one of the model's classes (${classes}); got ${JSON.stringify(label)}.`, 422, { field });
  }
}
