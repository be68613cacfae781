import { and, eq, gte, inArray, isNotNull, isNull, lt, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../client';
import { feedbackLabels, predictions } from '../schema';
import type { DriftBaseline } from '../../domain/drift-baseline';
import type { DriftWindow, FeatureWindow, LiveWindow, PredictionWindowCounts } from '../../domain/drift-window';

export type { DriftWindow, FeatureWindow, LiveWindow, PredictionWindowCounts } from '../../domain/drift-window';

/** Hundredths of the positive-class probability: the bins live ROC-AUC is computed on. */
export const AUC_BINS = 100;

export interface DriftWindowQuery {
  endpointId: string;
  versionId: string;
  /** [from, to): the start is included, the end is not. */
  from: Date;
  to: Date;
  /** The features to bin, each on its baseline's inner edges (width_bucket numbering, edges.length + 1 bins). */
  features: { feature: string; edges: readonly number[] }[];
  prediction:
    | { task: 'classification'; classes: readonly string[]; probabilityEdges: readonly number[] }
    | { task: 'regression'; edges: readonly number[] };
}

const floats = (values: readonly number[]): SQL => sql`array[${sql.join(values.map((v) => sql`${v}::float8`), sql`, `)}]::float8[]`;

/**
 * The aggregates a drift report is built from, for one version's window of the prediction log: per-feature
 * counts on the baseline's bins (width_bucket in SQL, all features in one scan), min/max per feature, the
 * prediction distribution and live metrics where feedback labels joined. Only a few hundred numbers come
 * back whatever the window's size; the (model_version_id, created_at) index bounds the scan. PostgreSQL and PGlite.
 */
export async function readDriftWindow(db: Db, query: DriftWindowQuery): Promise<DriftWindow> {
  const answered = and(
    eq(predictions.modelVersionId, query.versionId),
    eq(predictions.endpointId, query.endpointId),
    inArray(predictions.route, ['stable', 'canary']),
    gte(predictions.createdAt, query.from),
    lt(predictions.createdAt, query.to),
    isNull(predictions.error),
    isNotNull(predictions.outputs),
  ) as SQL;

  const [total] = await db.select({ rows: sql<number>`count(*)::int`.mapWith(Number) }).from(predictions).where(answered);
  const rows = total?.rows ?? 0;
  const features = await featureCounts(db, answered, query.features);
  const prediction = query.prediction.task === 'classification' ? await classCounts(db, answered, query.prediction.probabilityEdges) : await valueCounts(db, answered, query.prediction.edges);
  const live = query.prediction.task === 'classification' ? await classLive(db, answered, query.prediction.classes) : await valueLive(db, answered);
  return { rows, features, prediction, live };
}

async function featureCounts(db: Db, answered: SQL, wanted: DriftWindowQuery['features']): Promise<FeatureWindow[]> {
  const out: FeatureWindow[] = wanted.map((f) => ({ feature: f.feature, counts: new Array<number>(f.edges.length + 1).fill(0), missing: 0, min: null, max: null }));
  if (wanted.length === 0) return out;
  // One row per (logged row, feature) through the aggregate, never to the client: one scan of the window for every feature.
  const list = sql.join(
    wanted.map((f, i) => sql`(${i}::int, ${f.feature}::text, ${floats(f.edges)})`),
    sql`, `,
  );
  const raw: unknown = await db.execute(sql`
    select f.i as i, case when x.v is null then null else width_bucket(x.v, f.edges) end as bin,
      count(*)::int as n, min(x.v) as min, max(x.v) as max
    from ${predictions}
    cross join (values ${list}) as f(i, name, edges)
    cross join lateral (select case when jsonb_typeof(${predictions.inputs} -> f.name) = 'number' then (${predictions.inputs} ->> f.name)::float8 end as v) as x
    where ${answered}
    group by 1, 2`);
  const result = raw as { rows: { i: number; bin: number | null; n: number; min: number | null; max: number | null }[] };
  for (const row of result.rows) {
    const feature = out[Number(row.i)];
    if (!feature) continue;
    const n = Number(row.n);
    if (row.bin === null) {
      feature.missing += n;
      continue;
    }
    const bin = Number(row.bin);
    feature.counts[bin] = (feature.counts[bin] ?? 0) + n;
    const min = Number(row.min);
    const max = Number(row.max);
    feature.min = feature.min === null ? min : Math.min(feature.min, min);
    feature.max = feature.max === null ? max : Math.max(feature.max, max);
  }
  return out;
}

/** The top-class probability of a logged answer: the largest of `probabilities`, else from the binary `probability`. */
const topProbability = sql`coalesce(
  (select max(e.value::float8) from jsonb_each_text(${predictions.outputs} -> 'probabilities') as e),
  greatest((${predictions.outputs} ->> 'probability')::float8, 1 - (${predictions.outputs} ->> 'probability')::float8))`;

async function classCounts(db: Db, answered: SQL, probabilityEdges: readonly number[]): Promise<PredictionWindowCounts> {
  const rows = await db
    .select({
      label: sql<string | null>`${predictions.outputs} ->> 'label'`,
      bin: sql<number | null>`width_bucket(${topProbability}, ${floats(probabilityEdges)})`,
      count: sql<number>`count(*)::int`.mapWith(Number),
    })
    .from(predictions)
    .where(answered)
    .groupBy(sql`1, 2`);
  const labelCounts: Record<string, number> = {};
  const probabilityCounts = new Array<number>(probabilityEdges.length + 1).fill(0);
  for (const row of rows) {
    const label = row.label ?? '';
    labelCounts[label] = (labelCounts[label] ?? 0) + row.count;
    if (row.bin !== null) probabilityCounts[Number(row.bin)] = (probabilityCounts[Number(row.bin)] ?? 0) + row.count;
  }
  return { task: 'classification', labelCounts, probabilityCounts };
}

async function valueCounts(db: Db, answered: SQL, edges: readonly number[]): Promise<PredictionWindowCounts> {
  const value = sql`(${predictions.outputs} ->> 'value')::float8`;
  const rows = await db
    .select({
      bin: sql<number>`width_bucket(${value}, ${floats(edges)})`.mapWith(Number),
      count: sql<number>`count(*)::int`.mapWith(Number),
      min: sql<number>`min(${value})`.mapWith(Number),
      max: sql<number>`max(${value})`.mapWith(Number),
    })
    .from(predictions)
    .where(and(answered, sql`${value} is not null`))
    .groupBy(sql`1`);
  const counts = new Array<number>(edges.length + 1).fill(0);
  let min: number | null = null;
  let max: number | null = null;
  for (const row of rows) {
    counts[row.bin] = (counts[row.bin] ?? 0) + row.count;
    min = min === null ? row.min : Math.min(min, row.min);
    max = max === null ? row.max : Math.max(max, row.max);
  }
  return { task: 'regression', counts, min, max };
}

/** Labelled rows and correct answers; for two classes also per-hundredth counts of positive-class probability by true label. */
async function classLive(db: Db, answered: SQL, classes: readonly string[]): Promise<LiveWindow> {
  const truth = sql`${feedbackLabels.label} #>> '{}'`;
  const [counts] = await db
    .select({
      labelled: sql<number>`count(*)::int`.mapWith(Number),
      correct: sql<number>`(count(*) filter (where ${predictions.outputs} ->> 'label' = ${truth}))::int`.mapWith(Number),
    })
    .from(predictions)
    .innerJoin(feedbackLabels, eq(feedbackLabels.predictionId, predictions.id))
    .where(answered);
  const labelled = counts?.labelled ?? 0;
  let auc: LiveWindow['auc'] = null;
  const positiveClass = classes[1];
  if (classes.length === 2 && positiveClass !== undefined && labelled > 0) {
    const positive = sql`coalesce((${predictions.outputs} -> 'probabilities' ->> ${positiveClass}::text)::float8, (${predictions.outputs} ->> 'probability')::float8)`;
    const rows = await db
      .select({
        bin: sql<number>`least(${AUC_BINS - 1}, greatest(0, floor(${positive} * ${AUC_BINS})))::int`.mapWith(Number),
        isPositive: sql<boolean>`${truth} = ${positiveClass}::text`,
        count: sql<number>`count(*)::int`.mapWith(Number),
      })
      .from(predictions)
      .innerJoin(feedbackLabels, eq(feedbackLabels.predictionId, predictions.id))
      .where(and(answered, sql`${positive} is not null`, sql`${truth} in (${classes[0] ?? ''}::text, ${positiveClass}::text)`))
      .groupBy(sql`1, 2`);
    auc = { positives: new Array<number>(AUC_BINS).fill(0), negatives: new Array<number>(AUC_BINS).fill(0) };
    for (const row of rows) {
      const side = row.isPositive === true || (row.isPositive as unknown) === 't' ? auc.positives : auc.negatives;
      side[row.bin] = (side[row.bin] ?? 0) + row.count;
    }
  }
  return { labelled, correct: counts?.correct ?? 0, auc, errors: null };
}

async function valueLive(db: Db, answered: SQL): Promise<LiveWindow> {
  const error = sql`((${predictions.outputs} ->> 'value')::float8 - (${feedbackLabels.label} #>> '{}')::float8)`;
  const [row] = await db
    .select({
      labelled: sql<number>`count(*)::int`.mapWith(Number),
      n: sql<number>`(count(*) filter (where jsonb_typeof(${feedbackLabels.label}) = 'number'))::int`.mapWith(Number),
      sumAbs: sql<number>`coalesce(sum(abs(${error})) filter (where jsonb_typeof(${feedbackLabels.label}) = 'number'), 0)`.mapWith(Number),
      sumSquared: sql<number>`coalesce(sum(${error} * ${error}) filter (where jsonb_typeof(${feedbackLabels.label}) = 'number'), 0)`.mapWith(Number),
    })
    .from(predictions)
    .innerJoin(feedbackLabels, eq(feedbackLabels.predictionId, predictions.id))
    .where(answered);
  return { labelled: row?.labelled ?? 0, correct: null, auc: null, errors: { n: row?.n ?? 0, sumAbs: row?.sumAbs ?? 0, sumSquared: row?.sumSquared ?? 0 } };
}

/** The query for a version with a baseline: its features and prediction binned on the baseline's edges. */
export function driftWindowQueryFor(
  baseline: DriftBaseline,
  window: { endpointId: string; versionId: string; from: Date; to: Date },
): DriftWindowQuery {
  const p = baseline.prediction;
  return {
    ...window,
    features: baseline.features.map((f) => ({ feature: f.feature, edges: f.edges })),
    prediction: p.task === 'classification' ? { task: 'classification', classes: p.classes, probabilityEdges: p.probabilityEdges } : { task: 'regression', edges: p.edges },
  };
}
