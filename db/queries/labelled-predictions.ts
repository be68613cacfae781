import { and, asc, eq, gte, inArray, isNull, lt, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { feedbackLabels, predictions } from '../schema';

export interface LabelledPrediction {
  id: string;
  modelVersionId: string;
  inputs: Record<string, unknown>;
  label: string | number;
}

/** Where the next page starts: the last row's (created_at, id), the time as PostgreSQL's text so no microsecond is lost. */
export interface LabelledPredictionCursor {
  createdAt: string;
  id: string;
}

export interface LabelledPredictionPage {
  rows: LabelledPrediction[];
  /** Null when this page was the last. */
  next: LabelledPredictionCursor | null;
}

/**
 * One page of an endpoint's labelled answers in [from, to), oldest first: predictions the stable or canary
 * route returned to a caller without error (shadow answers were never seen), joined with their feedback label.
 * Keyset-paged on (created_at, id) so a window of millions of rows is read in bounded memory, in the same order
 * every time (the order is part of the built dataset's content hash).
 */
export async function labelledPredictionsPage(
  db: Db,
  query: { endpointId: string; from: Date; to: Date; after: LabelledPredictionCursor | null; limit: number },
): Promise<LabelledPredictionPage> {
  const rows = await db
    .select({
      id: predictions.id,
      modelVersionId: predictions.modelVersionId,
      inputs: predictions.inputs,
      label: feedbackLabels.label,
      createdAt: sql<string>`${predictions.createdAt}::text`,
    })
    .from(predictions)
    .innerJoin(feedbackLabels, eq(feedbackLabels.predictionId, predictions.id))
    .where(
      and(
        eq(predictions.endpointId, query.endpointId),
        gte(predictions.createdAt, query.from),
        lt(predictions.createdAt, query.to),
        inArray(predictions.route, ['stable', 'canary']),
        isNull(predictions.error),
        query.after ? sql`(${predictions.createdAt}, ${predictions.id}) > (${query.after.createdAt}::timestamptz, ${query.after.id})` : undefined,
      ),
    )
    .orderBy(asc(predictions.createdAt), asc(predictions.id))
    .limit(query.limit);
  const last = rows.at(-1);
  return {
    rows: rows.map(({ createdAt: _createdAt, ...row }) => row),
    next: last && rows.length === query.limit ? { createdAt: last.createdAt, id: last.id } : null,
  };
}
