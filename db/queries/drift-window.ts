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

/** How long one of the scan's queries may hold the database, roughly: PGlite runs one query at a time, and the prediction log's INSERTs wait behind it. */
const SLICE_TARGET_MS = 50;
/** The first slice's share of the window; each next one is sized from how long the last took. */
const FIRST_SLICE = 1 / 1024;

/**
 * The aggregates a drift report is built from, for one version's window of the prediction log: per-feature
 * counts on the baseline's bins (width_bucket in SQL, all features in one scan), min/max per feature, the
 * prediction distribution and live metrics where feedback labels joined. Only a few hundred numbers come
 * back whatever the window's size; the (model_version_id, created_at) index bounds the scan. PostgreSQL and PGlite.
 * The window is read in consecutive time slices sized to take about SLICE_TARGET_MS each, and the counts are
 * summed: on PGlite a scan of a million rows would otherwise hold the one session for many seconds, and every
 * prediction (answered once its log row is committed) with it.
 */
export async function readDriftWindow(db: Db, query: DriftWindowQuery): Promise<DriftWindow> {
  const to = query.to.getTime();
  let from = query.from.getTime();
  let width = Math.max(1, (to - from) * FIRST_SLICE);
  let total: DriftWindow | undefined;
  do {
    const end = Math.min(to, from + width);
    const started = performance.now();
    const slice = await readWindowSlice(db, { ...query, from: new Date(from), to: new Date(end) });
    const elapsed = performance.now() - started;
    total = total ? addWindows(total, slice) : slice;
    width = Math.max(1, width * Math.min(4, Math.max(0.25, SLICE_TARGET_MS / Math.max(elapsed, 1))));
    from = end;
  } while (from < to);
  return total;
}

async function readWindowSlice(db: Db, query: DriftWindowQuery): Promise<DriftWindow> {
  const answered = and(
    eq(predictions.modelVersionId, query.versionId),
    eq(predictions.endpointId, query.endpointId),
    inArray(predictions.route, ['stable', 'canary']),
    gte(predictions.createdAt, query.from),
    lt(predictions.createdAt, query.to),
    isNull(predictions.error),
    isNotNull(predictions.outputs),
  ) as SQL;

  const scanned = await scanWindow(db, answered, query);
  const live = query.prediction.task === 'classification' ? await classLive(db, answered, query.prediction.classes) : await valueLive(db, answered);
  return { ...scanned, live };
}

/** Two adjacent slices' aggregates as one: counts and sums add, extremes combine. */
function addWindows(a: DriftWindow, b: DriftWindow): DriftWindow {
  const add = (x: number[], y: number[]): number[] => x.map((v, i) => v + (y[i] ?? 0));
  const lo = (x: number | null, y: number | null): number | null => (x === null ? y : y === null ? x : Math.min(x, y));
  const hi = (x: number | null, y: number | null): number | null => (x === null ? y : y === null ? x : Math.max(x, y));
  const features = a.features.map((f, j) => {
    const g = b.features[j];
    return g ? { feature: f.feature, counts: add(f.counts, g.counts), missing: f.missing + g.missing, min: lo(f.min, g.min), max: hi(f.max, g.max) } : f;
  });
  let prediction: PredictionWindowCounts = a.prediction;
  if (a.prediction.task === 'classification' && b.prediction.task === 'classification') {
    const labelCounts = { ...a.prediction.labelCounts };
    for (const [label, n] of Object.entries(b.prediction.labelCounts)) labelCounts[label] = (labelCounts[label] ?? 0) + n;
    prediction = { task: 'classification', labelCounts, probabilityCounts: add(a.prediction.probabilityCounts, b.prediction.probabilityCounts) };
  } else if (a.prediction.task === 'regression' && b.prediction.task === 'regression') {
    prediction = { task: 'regression', counts: add(a.prediction.counts, b.prediction.counts), min: lo(a.prediction.min, b.prediction.min), max: hi(a.prediction.max, b.prediction.max) };
  }
  const [x, y] = [a.live, b.live];
  const live: LiveWindow = {
    labelled: x.labelled + y.labelled,
    correct: x.correct === null && y.correct === null ? null : (x.correct ?? 0) + (y.correct ?? 0),
    auc: x.auc && y.auc ? { positives: add(x.auc.positives, y.auc.positives), negatives: add(x.auc.negatives, y.auc.negatives) } : (x.auc ?? y.auc),
    errors: x.errors && y.errors ? { n: x.errors.n + y.errors.n, sumAbs: x.errors.sumAbs + y.errors.sumAbs, sumSquared: x.errors.sumSquared + y.errors.sumSquared } : (x.errors ?? y.errors),
  };
  return { rows: a.rows + b.rows, features, prediction, live };
}

/** Counts come back from PostgreSQL as bigint text and from PGlite as numbers. */
const num = (raw: unknown): number => Number(raw ?? 0);
const numOrNull = (raw: unknown): number | null => (raw === null || raw === undefined ? null : Number(raw));

/**
 * Everything but the live metrics in one pass over the window: the inner query reads each feature and the
 * prediction out of the jsonb once per row and buckets them (width_bucket on the baseline's edges); the outer one
 * is a single aggregate of filtered counts, so there is no sort or hash of rows × features however large the
 * window. `offset 0` keeps the planner from folding the inner queries and computing each bucket again per count.
 */
async function scanWindow(db: Db, answered: SQL, query: DriftWindowQuery): Promise<Omit<DriftWindow, 'live'>> {
  const inner: SQL[] = [];
  const outer: SQL[] = [sql`count(*) as rows`];
  query.features.forEach((f, j) => {
    const value = sql`${predictions.inputs} -> ${f.feature}::text`;
    inner.push(sql`case when jsonb_typeof(${value}) = 'number' then (${value})::float8 end as ${sql.raw(`v${j}`)}`);
    outer.push(sql.raw(`count(v${j}) as n${j}, min(v${j}) as lo${j}, max(v${j}) as hi${j}`));
    for (let b = 0; b <= f.edges.length; b++) outer.push(sql.raw(`count(*) filter (where b${j} = ${b}) as c${j}_${b}`));
  });
  const p = query.prediction;
  let predictionEdges: readonly number[];
  if (p.task === 'classification') {
    // The largest class probability, from `probabilities` (classes known), else the older binary `probability`.
    const perClass = p.classes.map((c) => sql`(${predictions.outputs} -> 'probabilities' ->> ${c}::text)::float8`);
    const binary = sql`(${predictions.outputs} ->> 'probability')::float8`;
    const top = perClass.length > 0 ? sql`coalesce(greatest(${sql.join(perClass, sql`, `)}), greatest(${binary}, 1 - ${binary}))` : sql`greatest(${binary}, 1 - ${binary})`;
    inner.push(sql`${predictions.outputs} ->> 'label' as label`, sql`${top} as pv`);
    p.classes.forEach((c, k) => outer.push(sql`count(*) filter (where label = ${c}::text) as ${sql.raw(`l${k}`)}`));
    predictionEdges = p.probabilityEdges;
  } else {
    inner.push(sql`(${predictions.outputs} ->> 'value')::float8 as pv`);
    outer.push(sql.raw('min(pv) as plo, max(pv) as phi'));
    predictionEdges = p.edges;
  }
  for (let b = 0; b <= predictionEdges.length; b++) outer.push(sql.raw(`count(*) filter (where pb = ${b}) as p_${b}`));
  const buckets = [
    ...query.features.map((f, j) => sql`${sql.raw(`v${j}`)}, width_bucket(${sql.raw(`v${j}`)}, ${floats(f.edges)}) as ${sql.raw(`b${j}`)}`),
    ...(p.task === 'classification' ? [sql`label`] : []),
    sql`pv, width_bucket(pv, ${floats(predictionEdges)}) as pb`,
  ];
  const raw: unknown = await db.execute(sql`
    select ${sql.join(outer, sql`, `)}
    from (
      select ${sql.join(buckets, sql`, `)}
      from (select ${sql.join(inner, sql`, `)} from ${predictions} where ${answered} offset 0) as w
      offset 0
    ) as b`);
  const row = (raw as { rows: Record<string, unknown>[] }).rows[0] ?? {};
  const rows = num(row.rows);
  const features: FeatureWindow[] = query.features.map((f, j) => ({
    feature: f.feature,
    counts: Array.from({ length: f.edges.length + 1 }, (_, b) => num(row[`c${j}_${b}`])),
    missing: rows - num(row[`n${j}`]),
    min: numOrNull(row[`lo${j}`]),
    max: numOrNull(row[`hi${j}`]),
  }));
  const binned = Array.from({ length: predictionEdges.length + 1 }, (_, b) => num(row[`p_${b}`]));
  let prediction: PredictionWindowCounts;
  if (p.task === 'classification') {
    const labelCounts: Record<string, number> = {};
    p.classes.forEach((c, k) => {
      const n = num(row[`l${k}`]);
      if (n > 0) labelCounts[c] = n;
    });
    const other = rows - Object.values(labelCounts).reduce((a, b) => a + b, 0);
    if (other > 0) labelCounts[OTHER_LABEL] = other;
    prediction = { task: 'classification', labelCounts, probabilityCounts: binned };
  } else {
    prediction = { task: 'regression', counts: binned, min: numOrNull(row.plo), max: numOrNull(row.phi) };
  }
  return { rows, features, prediction };
}

/** Where answers whose label is none of the model's classes are counted. */
export const OTHER_LABEL = '(other)';

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
