import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import seedrandom from 'seedrandom';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../db/client';
import { feedbackLabels, modelVersions, predictions } from '../../db/schema';
import { bootstrapProject } from '../../db/queries/projects';
import { AUC_BINS, driftWindowQueryFor, readDriftWindow } from '../../db/queries/drift-window';
import { lastReportedWindowEnd, listDriftReports, storeDriftReport, versionsServedIn } from '../../db/queries/monitoring';
import type { DriftBaseline } from '../../domain/drift-baseline';
import type { TrafficRoute } from '../../domain/rollout';
import { binCounts, PROBABILITY_EDGES } from '../../ml/drift-baseline';
import { buildVersionDriftReport } from '../../ml/drift-report';
import { DEFAULT_MONITORING_THRESHOLDS } from '../../domain/monitoring';
import { newId } from '../../platform/ids';
import { insertEndpoint, insertModelVersion } from '../support/candidate-models';

const T0 = new Date('2026-02-01T10:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const WINDOW = { from: at(0), to: at(3600) };

const BASELINE: DriftBaseline = {
  bins: 10,
  features: [
    { feature: 'tenure', edges: [10, 20, 30, 40, 50], counts: [10, 10, 10, 10, 10, 10], rows: 60, min: 0, max: 60, mean: 30, std: 17 },
    { feature: 'spend', edges: [50, 100, 150], counts: [15, 15, 15, 15], rows: 60, min: 0, max: 200, mean: 100, std: 58 },
  ],
  prediction: { task: 'classification', classes: ['no', 'yes'], labelCounts: [30, 30], probabilityEdges: PROBABILITY_EDGES, probabilityCounts: [0, 0, 0, 0, 0, 12, 12, 12, 12, 12] },
};

interface Row {
  tenure: unknown;
  spend: unknown;
  yes: number;
  route?: TrafficRoute;
  second?: number;
  error?: boolean;
  label?: string | number;
  version?: string;
}

describe('drift window SQL', () => {
  let database: DatabaseHandle;
  let projectId: string;
  let endpointId: string;
  let versionId: string;
  let otherVersionId: string;
  let regressorId: string;
  let noBaselineId: string;
  /** The rows that count (stable and canary, answered, in the window) for the classifier. */
  const counted: Row[] = [];

  async function insert(rows: Row[], outputs: (r: Row) => Record<string, unknown> = (r) => ({ label: r.yes >= 0.5 ? 'yes' : 'no', probability: r.yes, probabilities: { no: 1 - r.yes, yes: r.yes } })) {
    const values = rows.map((r) => ({
      id: newId('pred'),
      endpointId,
      modelVersionId: r.version ?? versionId,
      inputs: { tenure: r.tenure, spend: r.spend },
      outputs: r.error ? null : outputs(r),
      latencyMs: 1,
      error: r.error ? 'boom' : null,
      route: r.route ?? 'stable',
      createdAt: at(r.second ?? 60),
    }));
    await database.db.insert(predictions).values(values);
    const labelled = rows.flatMap((r, i) => (r.label === undefined ? [] : [{ predictionId: values[i]!.id, label: r.label }]));
    if (labelled.length > 0) await database.db.insert(feedbackLabels).values(labelled);
  }

  beforeAll(async () => {
    const url = inject('databaseUrl');
    database = await openDatabase(url ? { url } : { inMemory: true });
    if (!url) await database.migrate();
    ({ projectId } = await bootstrapProject(database.db, { projectName: `drift-${randomUUID().slice(0, 8)}` }));
    const db = database.db;
    const features = ['tenure', 'spend'];
    versionId = (await insertModelVersion(db, { projectId, model: 'churn', features })).modelVersionId;
    otherVersionId = (await insertModelVersion(db, { projectId, model: 'churn', features })).modelVersionId;
    noBaselineId = (await insertModelVersion(db, { projectId, model: 'old', features })).modelVersionId;
    regressorId = (await insertModelVersion(db, { projectId, model: 'price', features, outputSchema: { name: 'value', task: 'regression', target: 'price' } })).modelVersionId;
    for (const id of [versionId, otherVersionId]) {
      const [row] = await db.select({ evaluation: modelVersions.evaluation }).from(modelVersions).where(eq(modelVersions.id, id));
      await db.update(modelVersions).set({ evaluation: { ...row!.evaluation, baseline: BASELINE } }).where(eq(modelVersions.id, id));
    }
    endpointId = await insertEndpoint(db, { projectId, name: 'churn', stableVersionId: versionId });

    const random = seedrandom('drift-window');
    for (let i = 0; i < 300; i++) {
      const row: Row = {
        tenure: Math.round(random() * 60),
        spend: Math.round(random() * 4000) / 10,
        yes: Math.round(random() * 1000) / 1000,
        route: i % 5 === 0 ? 'canary' : 'stable',
        second: 1 + Math.floor(random() * 3500),
        ...(i % 3 === 0 && { label: random() < 0.5 ? 'yes' : 'no' }),
      };
      counted.push(row);
    }
    // Edge values land in the bin above, as width_bucket does: 10 → bin 1, 50 → bin 5.
    counted.push({ tenure: 10, spend: 50, yes: 0.9, label: 'yes' }, { tenure: 50, spend: 150, yes: 0.1, label: 'yes' });
    // A value that is not a number is counted as missing for that feature only.
    counted.push({ tenure: 'unknown', spend: 20, yes: 0.6 }, { tenure: null, spend: 30, yes: 0.4 });
    await insert(counted);
    await insert([
      { tenure: 999, spend: 999, yes: 0.99, route: 'shadow', label: 'yes' },
      { tenure: 999, spend: 999, yes: 0.99, error: true },
      { tenure: 999, spend: 999, yes: 0.99, second: -1 },
      { tenure: 999, spend: 999, yes: 0.99, second: 3600 },
      { tenure: 999, spend: 999, yes: 0.99, version: otherVersionId, second: 4000 },
    ]);
    await insert([{ tenure: 5, spend: 5, yes: 0, version: regressorId, label: 12 }, { tenure: 5, spend: 5, yes: 0, version: regressorId, label: 6 }, { tenure: 5, spend: 5, yes: 0, version: regressorId, label: 'n/a' }], () => ({ value: 10 }));
    await insert([{ tenure: 5, spend: 5, yes: 0.7, version: noBaselineId, label: 'yes' }]);
  });
  afterAll(async () => {
    await database?.close();
  });

  it('bins every feature on the baseline edges in SQL as width_bucket does, with min/max and missing values; shadow, error and out-of-window rows are left out', async () => {
    const window = await readDriftWindow(database.db, driftWindowQueryFor(BASELINE, { endpointId, versionId, ...WINDOW }));
    expect(window.rows).toBe(counted.length);
    const numeric = (f: 'tenure' | 'spend') => counted.map((r) => r[f]).filter((v): v is number => typeof v === 'number');
    for (const feature of BASELINE.features) {
      const values = numeric(feature.feature as 'tenure' | 'spend');
      expect(window.features.find((f) => f.feature === feature.feature)).toEqual({
        feature: feature.feature,
        counts: binCounts(feature.edges, values),
        missing: counted.length - values.length,
        min: Math.min(...values),
        max: Math.max(...values),
      });
    }

    const yes = counted.filter((r) => r.yes >= 0.5).length;
    expect(window.prediction).toEqual({
      task: 'classification',
      labelCounts: { yes, no: counted.length - yes },
      probabilityCounts: binCounts(PROBABILITY_EDGES, counted.map((r) => Math.max(r.yes, 1 - r.yes))),
    });

    const labelled = counted.filter((r) => r.label !== undefined);
    const correct = labelled.filter((r) => (r.yes >= 0.5 ? 'yes' : 'no') === r.label).length;
    expect(window.live).toMatchObject({ labelled: labelled.length, correct, errors: null });
    const positives = new Array<number>(AUC_BINS).fill(0);
    const negatives = new Array<number>(AUC_BINS).fill(0);
    for (const r of labelled) (r.label === 'yes' ? positives : negatives)[Math.min(AUC_BINS - 1, Math.floor(r.yes * AUC_BINS))]! += 1;
    expect(window.live.auc).toEqual({ positives, negatives });
  });

  it('regressors: live RMSE and MAE from labelled rows with numeric labels; a version without a baseline still reads live metrics', async () => {
    const reg = await readDriftWindow(database.db, { endpointId, versionId: regressorId, ...WINDOW, features: [], prediction: { task: 'regression', edges: [5, 15] } });
    expect(reg.prediction).toEqual({ task: 'regression', counts: [0, 3, 0], min: 10, max: 10 });
    expect(reg.live).toEqual({ labelled: 3, correct: null, auc: null, errors: { n: 2, sumAbs: 6, sumSquared: 20 } });

    const old = await readDriftWindow(database.db, { endpointId, versionId: noBaselineId, ...WINDOW, features: [], prediction: { task: 'classification', classes: ['no', 'yes'], probabilityEdges: PROBABILITY_EDGES } });
    expect(old).toMatchObject({ rows: 1, features: [], live: { labelled: 1, correct: 1 } });
  });

  it('lists the versions that served in the window; stores a report once per run and version; pages reports newest first', async () => {
    const served = await versionsServedIn(database.db, endpointId, WINDOW.from, WINDOW.to);
    expect(served.map((v) => v.id).sort()).toEqual([versionId, regressorId, noBaselineId].sort());
    expect(served.find((v) => v.id === versionId)?.evaluation.baseline).toEqual(BASELINE);

    const counts = await readDriftWindow(database.db, driftWindowQueryFor(BASELINE, { endpointId, versionId, ...WINDOW }));
    const report = buildVersionDriftReport({ modelVersionId: versionId, model: { name: 'churn', version: 1 }, window: { from: WINDOW.from.toISOString(), to: WINDOW.to.toISOString() }, baseline: BASELINE, counts, thresholds: DEFAULT_MONITORING_THRESHOLDS });
    // Spend was drawn on [0, 400], twice the baseline's range.
    expect(report.features.find((f) => f.feature === 'spend')?.drifted).toBe(true);
    const first = await storeDriftReport(database.db, { endpointId, workflowId: 'monitor-a', ...WINDOW, report });
    const retried = await storeDriftReport(database.db, { endpointId, workflowId: 'monitor-a', ...WINDOW, report: { ...report, drifted: false } });
    expect(retried).toEqual(first);
    expect(first.drifted).toBe(true);

    const later = { from: WINDOW.to, to: at(7200) };
    const second = await storeDriftReport(database.db, { endpointId, workflowId: 'monitor-b', ...later, report: { ...report, window: { from: later.from.toISOString(), to: later.to.toISOString() } } });
    expect(await lastReportedWindowEnd(database.db, endpointId)).toEqual(later.to);
    const page1 = await listDriftReports(database.db, { endpointId, limit: 1, offset: 0 });
    expect(page1.reports.map((r) => r.id)).toEqual([second.id]);
    expect(page1.more).toBe(true);
    const page2 = await listDriftReports(database.db, { endpointId, limit: 1, offset: 1 });
    expect(page2).toEqual({ reports: [first], more: false });
    // Windows overlapping [from, to) only.
    expect((await listDriftReports(database.db, { endpointId, from: WINDOW.to, limit: 10, offset: 0 })).reports.map((r) => r.id)).toEqual([second.id]);
    expect((await listDriftReports(database.db, { endpointId, to: WINDOW.to, limit: 10, offset: 0 })).reports.map((r) => r.id)).toEqual([first.id]);
  });
});
