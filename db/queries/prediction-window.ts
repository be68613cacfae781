import { and, eq, gte, isNotNull, isNull, lt, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../client';
import { feedbackLabels, modelVersions, predictions } from '../schema';
import { distinctEdges, PROBABILITY_BINS, VALUE_QUANTILES, type OutputHistogram, type PredictionWindow } from '../../domain/prediction-window';
import type { TrafficRoute } from '../../domain/rollout';

export interface PredictionWindowQuery {
  endpointId: string;
  versionId: string;
  /** Only the rows this route answered (a candidate's canary or shadow rows); every route when absent. */
  route?: TrafficRoute;
  /** [from, to): the window's start is included, its end is not. */
  from: Date;
  to: Date;
  /**
   * Regressors: the edges to bin values between, so a candidate is binned on the stable window's deciles.
   * Without them the version's own deciles in this window are the edges.
   */
  valueEdges?: readonly number[];
}

/**
 * Reads one version's window of the prediction log: counts, p99 latency, the output histogram and accuracy on
 * rows with feedback labels. Everything is aggregated in SQL (a handful of small result rows however large the
 * window), and uses the (model_version_id, created_at) index. The same SQL runs on PostgreSQL and PGlite.
 */
export async function readPredictionWindow(db: Db, query: PredictionWindowQuery): Promise<PredictionWindow> {
  const [version] = await db.select({ outputSchema: modelVersions.outputSchema }).from(modelVersions).where(eq(modelVersions.id, query.versionId));
  if (!version) throw new Error(`model version ${query.versionId} does not exist`);
  const regression = version.outputSchema.name === 'value';

  const inWindow = and(
    eq(predictions.modelVersionId, query.versionId),
    eq(predictions.endpointId, query.endpointId),
    query.route ? eq(predictions.route, query.route) : undefined,
    gte(predictions.createdAt, query.from),
    lt(predictions.createdAt, query.to),
  ) as SQL;
  const answered = and(inWindow, isNull(predictions.error), isNotNull(predictions.outputs)) as SQL;

  const [counts] = await db
    .select({
      total: sql<number>`count(*)::int`.mapWith(Number),
      errors: sql<number>`(count(*) filter (where ${predictions.error} is not null))::int`.mapWith(Number),
      p99LatencyMs: sql<number | null>`percentile_cont(0.99) within group (order by ${predictions.latencyMs})`,
    })
    .from(predictions)
    .where(inWindow);
  const total = counts?.total ?? 0;
  const errors = counts?.errors ?? 0;
  const p99LatencyMs = counts?.p99LatencyMs === null || counts?.p99LatencyMs === undefined ? null : Number(counts.p99LatencyMs);
  if (total === 0) return { total, errors, p99LatencyMs: null, outputs: null, accuracy: regression ? null : { labelled: 0, correct: 0 } };

  const outputs = regression ? await valueHistogram(db, answered, query.valueEdges) : await classHistogram(db, answered);
  const accuracy = regression ? null : await labelledAccuracy(db, answered);
  return { total, errors, p99LatencyMs, outputs, accuracy };
}

/** Predicted labels and the positive-class (two classes) or top-class probability, counted per (label, bin) in one pass. */
async function classHistogram(db: Db, answered: SQL): Promise<OutputHistogram | null> {
  // `probability` is written for two-class models (the positive class); otherwise the largest of `probabilities`.
  const probability = sql`coalesce((${predictions.outputs}->>'probability')::float8, (select max(e.value::float8) from jsonb_each_text(${predictions.outputs}->'probabilities') as e))`;
  const rows = await db
    .select({
      label: sql<string>`${predictions.outputs}->>'label'`,
      bin: sql<number>`least(${PROBABILITY_BINS - 1}, greatest(0, floor(${probability} * ${PROBABILITY_BINS})))::int`.mapWith(Number),
      count: sql<number>`count(*)::int`.mapWith(Number),
    })
    .from(predictions)
    .where(answered)
    .groupBy(sql`1, 2`);
  if (rows.length === 0) return null;
  const labels: Record<string, number> = {};
  const probabilityBins = new Array<number>(PROBABILITY_BINS).fill(0);
  for (const row of rows) {
    const label = row.label ?? '';
    labels[label] = (labels[label] ?? 0) + row.count;
    // A row without any probability (null bin) still counts for its label.
    if (row.bin !== null && Number.isFinite(row.bin)) probabilityBins[row.bin] = (probabilityBins[row.bin] ?? 0) + row.count;
  }
  return { kind: 'classification', labels, probabilityBins };
}

/** Values binned between `edges` (width_bucket), the window's own deciles when none are given. */
async function valueHistogram(db: Db, answered: SQL, given: readonly number[] | undefined): Promise<OutputHistogram | null> {
  const value = sql`(${predictions.outputs}->>'value')::float8`;
  let edges: number[];
  if (given) {
    edges = [...given];
  } else {
    const [row] = await db
      .select({ deciles: sql<unknown>`percentile_cont(array[${sql.join(VALUE_QUANTILES.map((q) => sql`${q}::float8`), sql`, `)}]) within group (order by ${value})` })
      .from(predictions)
      .where(and(answered, sql`${value} is not null`));
    const deciles = floatArray(row?.deciles);
    if (deciles.length === 0) return null;
    edges = distinctEdges(deciles);
  }
  const bins = new Array<number>(edges.length + 1).fill(0);
  const bucket = edges.length === 0 ? sql`0` : sql`width_bucket(${value}, array[${sql.join(edges.map((e) => sql`${e}::float8`), sql`, `)}])`;
  const rows = await db
    .select({ bin: sql<number>`${bucket}::int`.mapWith(Number), count: sql<number>`count(*)::int`.mapWith(Number) })
    .from(predictions)
    .where(and(answered, sql`${value} is not null`))
    .groupBy(sql`1`);
  if (rows.length === 0) return null;
  for (const row of rows) bins[row.bin] = (bins[row.bin] ?? 0) + row.count;
  return { kind: 'regression', edges, bins };
}

/** Answered rows with a feedback label, and how many predicted it: labels compare as text (`"1"` and `1` agree). */
async function labelledAccuracy(db: Db, answered: SQL): Promise<{ labelled: number; correct: number }> {
  const [row] = await db
    .select({
      labelled: sql<number>`count(*)::int`.mapWith(Number),
      correct: sql<number>`(count(*) filter (where ${predictions.outputs}->>'label' = ${feedbackLabels.label} #>> '{}'))::int`.mapWith(Number),
    })
    .from(predictions)
    .innerJoin(feedbackLabels, eq(feedbackLabels.predictionId, predictions.id))
    .where(answered);
  return { labelled: row?.labelled ?? 0, correct: row?.correct ?? 0 };
}

/** A float8[] as node-postgres (number[]) or PGlite (number[] or its text form) returns it. */
function floatArray(raw: unknown): number[] {
  if (raw === null || raw === undefined) return [];
  if (Array.isArray(raw)) return raw.map(Number);
  if (typeof raw === 'string') return raw.replace(/[{}]/g, '').split(',').filter(Boolean).map(Number);
  return [];
}
