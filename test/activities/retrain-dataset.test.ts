import { ApplicationFailure } from '@temporalio/common';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeDatasetArrow } from '../../data/columnar';
import { datasetVersions, feedbackLabels, predictions } from '../../db/schema';
import { labelledPredictionsPage, type LabelledPredictionCursor } from '../../db/queries/labelled-predictions';
import type { BuildRetrainDatasetInput } from '../../domain/retrain';
import { FailureType } from '../../workflows/contracts';
import { bootstrapProject } from '../../db/queries/projects';
import { UserError } from '../../platform/user-error';
import { insertModelVersion } from '../support/candidate-models';
import { setEndpointTraffic } from '../support/serving-fixtures';
import { ingestCsv, logPredictions, openRetrainHome, type RetrainHome } from '../support/retrain-fixtures';
import { churnRows, toCsv } from '../support/synthetic-data';

const T0 = new Date('2026-03-01T10:00:00Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
const WINDOW = { from: at(0).toISOString(), to: at(60).toISOString() };

/** buildRetrainDataset on a real database and real Arrow artifacts: the base's rows plus the window's labelled answers. */
describe('buildRetrainDataset', () => {
  let home: RetrainHome;
  let baseVersionId: string;
  let stableId: string;
  let canaryId: string;
  let endpointId: string;
  let input: BuildRetrainDatasetInput;
  const build = (over: Partial<BuildRetrainDatasetInput> = {}) => {
    const merged = { ...input, ...over };
    return home.inActivity(merged.workflowId, () => home.retrain.buildRetrainDataset(merged));
  };

  beforeAll(async () => {
    home = await openRetrainHome('retrain-dataset');
    baseVersionId = await ingestCsv(home, 'churn', toCsv(churnRows(200)));
    const trainedOn = { datasetVersionId: baseVersionId, target: 'churned' };
    stableId = (await insertModelVersion(home.database.db, { projectId: home.projectId, model: 'churn', features: ['tenure', 'spend'], trainedOn })).modelVersionId;
    canaryId = (await insertModelVersion(home.database.db, { projectId: home.projectId, model: 'churn', features: ['tenure', 'spend'], trainedOn })).modelVersionId;
    endpointId = await setEndpointTraffic(home.database.db, { projectId: home.projectId, endpoint: 'churn-live', stable: stableId, canary: canaryId, canaryWeight: 10 });
    const otherEndpoint = await setEndpointTraffic(home.database.db, { projectId: home.projectId, endpoint: 'churn-other', stable: stableId });
    const answer = { endpointId, versionId: stableId };
    await logPredictions(home.database.db, [
      { ...answer, inputs: { tenure: 3, spend: 120.5 }, at: at(5), label: 'yes' },
      { ...answer, inputs: { tenure: 50, spend: 10 }, at: at(1), label: 'no' },
      { ...answer, versionId: canaryId, route: 'canary', inputs: { tenure: 7, spend: 99 }, at: at(30), label: 'yes' },
      { ...answer, inputs: { tenure: 20, spend: 40 }, at: at(59), label: 'no' },
      // Left out: unlabelled, shadow, failed, outside [from, to), another endpoint, a class the model never had.
      { ...answer, inputs: { tenure: 1, spend: 1 }, at: at(10) },
      { ...answer, versionId: canaryId, route: 'shadow', inputs: { tenure: 2, spend: 2 }, at: at(10), label: 'yes' },
      { ...answer, inputs: { tenure: 3, spend: 3 }, at: at(10), error: 'model failed', label: 'no' },
      { ...answer, inputs: { tenure: 4, spend: 4 }, at: at(-1), label: 'no' },
      { ...answer, inputs: { tenure: 5, spend: 5 }, at: at(60), label: 'no' },
      { ...answer, endpointId: otherEndpoint, inputs: { tenure: 6, spend: 6 }, at: at(10), label: 'no' },
      { ...answer, inputs: { tenure: 8, spend: 8 }, at: at(20), label: 'maybe' },
    ]);
    input = { projectId: home.projectId, endpointName: 'churn-live', baseModelVersionId: stableId, window: WINDOW, workflowId: 'retrain-churn-1' };
  });
  afterAll(async () => {
    await home?.close();
  });

  it('writes the base rows then the labelled answers as the next version, typed, profiled and hashed like an upload', async () => {
    const result = await build();
    expect(result).toMatchObject({ dataset: 'churn', version: 2, rows: 204, baseDatasetVersionId: baseVersionId, baseRows: 200, feedbackRows: 4, skippedLabels: { unknown_class: 1, not_a_number: 0 }, created: true });

    const [base] = await home.database.db.select().from(datasetVersions).where(eq(datasetVersions.id, baseVersionId));
    const [built] = await home.database.db.select().from(datasetVersions).where(eq(datasetVersions.id, result.datasetVersionId));
    if (!base || !built) throw new Error('dataset versions missing');
    expect(built.schema.map((c) => [c.name, c.type])).toEqual(base.schema.map((c) => [c.name, c.type]));
    expect(built.schema.find((c) => c.name === 'noise')?.nullable).toBe(true);
    expect(built.contentHash).not.toBe(base.contentHash);
    expect(built.source).toEqual({
      kind: 'retrain',
      baseDatasetVersionId: baseVersionId,
      baseRows: 200,
      feedback: { endpoint: 'churn-live', from: WINDOW.from, to: WINDOW.to, rows: 4, modelVersionIds: [stableId, canaryId].sort(), skipped: { unknown_class: 1, not_a_number: 0 } },
      workflowId: 'retrain-churn-1',
    });
    const tenure = built.stats.find((s) => s.name === 'tenure');
    expect(tenure).toMatchObject({ type: 'number', count: 204, missing: 0 });
    expect(built.stats.find((s) => s.name === 'noise')).toMatchObject({ count: 200, missing: 4 });
    expect(built.stats.find((s) => s.name === 'churned')).toMatchObject({ type: 'string', count: 204, distinct: 2 });

    const table = decodeDatasetArrow(await home.artifacts.get(built.artifactUri));
    const baseTable = decodeDatasetArrow(await home.artifacts.get(base.artifactUri));
    expect(table.rowCount).toBe(204);
    expect(Array.from(table.numberColumn('tenure').slice(0, 200))).toEqual(Array.from(baseTable.numberColumn('tenure')));
    expect(table.stringColumn('churned').slice(0, 200)).toEqual(baseTable.stringColumn('churned'));
    // Oldest first, whichever route answered.
    expect(Array.from(table.numberColumn('tenure').slice(200))).toEqual([50, 3, 7, 20]);
    expect(Array.from(table.numberColumn('spend').slice(200))).toEqual([10, 120.5, 99, 40]);
    expect(table.stringColumn('churned').slice(200)).toEqual(['no', 'yes', 'yes', 'no']);
    expect(Array.from(table.numberColumn('noise').slice(200)).every(Number.isNaN)).toBe(true);
  });

  it('returns the version it wrote on a retry, even after a label changed, and the same content under another workflow as not created', async () => {
    const first = await build();
    const [changed] = await home.database.db.select({ id: predictions.id }).from(predictions).where(sql`${predictions.inputs}->>'tenure' = '20'`);
    await home.database.db.update(feedbackLabels).set({ label: 'yes' }).where(eq(feedbackLabels.predictionId, changed?.id ?? ''));
    const retried = await build();
    expect(retried).toEqual(first);
    expect(retried.created).toBe(true);

    await home.database.db.update(feedbackLabels).set({ label: 'no' }).where(eq(feedbackLabels.predictionId, changed?.id ?? ''));
    const again = await build({ workflowId: 'retrain-churn-2' });
    expect(again).toMatchObject({ datasetVersionId: first.datasetVersionId, version: 2, created: false, feedbackRows: 4 });
    const versions = await home.database.db.select({ id: datasetVersions.id }).from(datasetVersions).where(eq(datasetVersions.datasetId, (await home.database.db.select().from(datasetVersions).where(eq(datasetVersions.id, baseVersionId)))[0]?.datasetId ?? ''));
    expect(versions).toHaveLength(2);
  });

  it('fails non-retryably, naming the endpoint and window, when the window has no usable label', async () => {
    const window = { from: at(120).toISOString(), to: at(180).toISOString() };
    const err = await build({ window, workflowId: 'retrain-churn-empty' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    const failure = err as ApplicationFailure;
    expect(failure.type).toBe(FailureType.NoLabelledTraffic);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('"churn-live"');
    expect(failure.message).toContain(window.from);
    expect(failure.details?.[0]).toMatchObject({ code: 'no_labelled_traffic', status: 422 });

    // Only a label the model never had in the window: still nothing to learn, and the message says why.
    const onlyBad = await build({ window: { from: at(20).toISOString(), to: at(21).toISOString() }, workflowId: 'retrain-churn-bad' }).catch((e: unknown) => e);
    expect((onlyBad as ApplicationFailure).message).toContain('1 unknown class');
  });

  it('refuses a backwards window, an unknown endpoint and a base version of another project with their codes', async () => {
    const codeOf = async (over: Partial<BuildRetrainDatasetInput>) => {
      const err = await build({ workflowId: 'retrain-churn-bad-input', ...over }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      return (err as UserError).code;
    };
    expect(await codeOf({ window: { from: WINDOW.to, to: WINDOW.from } })).toBe('invalid_window');
    expect(await codeOf({ window: { from: 'yesterday', to: WINDOW.to } })).toBe('invalid_window');
    expect(await codeOf({ endpointName: 'nope' })).toBe('endpoint_not_found');
    const other = await bootstrapProject(home.database.db, { projectName: `other-${Date.now()}` });
    const foreign = await insertModelVersion(home.database.db, { projectId: other.projectId, model: 'foreign', features: ['tenure'] });
    expect(await codeOf({ baseModelVersionId: foreign.modelVersionId })).toBe('model_version_not_found');
  });

  it('pages the window on (created_at, id) without losing or repeating rows that share a microsecond', async () => {
    const tied = sql`'2026-03-01T11:50:00.000001Z'::timestamptz`;
    const later = sql`'2026-03-01T11:50:00.000002Z'::timestamptz`;
    const ids = await logPredictions(
      home.database.db,
      Array.from({ length: 5 }, (_, i) => ({ endpointId, versionId: stableId, inputs: { tenure: i, spend: i }, at: at(119), label: 'no' })),
    );
    await home.database.db.update(predictions).set({ createdAt: tied }).where(sql`${predictions.id} in (${sql.join(ids.slice(0, 4).map((id) => sql`${id}`), sql`, `)})`);
    await home.database.db.update(predictions).set({ createdAt: later }).where(eq(predictions.id, ids[4] ?? ''));
    const seen: string[] = [];
    let after: LabelledPredictionCursor | null = null;
    let pages = 0;
    do {
      const page = await labelledPredictionsPage(home.database.db, { endpointId, from: at(100), to: at(115), after, limit: 2 });
      seen.push(...page.rows.map((r) => r.id));
      after = page.next;
      pages += 1;
    } while (after);
    expect(seen).toEqual([...ids.slice(0, 4).sort(), ids[4]]);
    expect(pages).toBe(3);
  });

  it('types a numeric target as numbers and checks the label against the base model', async () => {
    const csv = 'x,y\n' + Array.from({ length: 30 }, (_, i) => `${i},${(i * 1.5).toFixed(1)}`).join('\n') + '\n';
    const datasetVersionId = await ingestCsv(home, 'prices', csv);
    const version = await insertModelVersion(home.database.db, {
      projectId: home.projectId,
      model: 'prices',
      features: ['x'],
      outputSchema: { name: 'value', task: 'regression', target: 'y' },
      trainedOn: { datasetVersionId, target: 'y' },
    });
    const priceEndpoint = await setEndpointTraffic(home.database.db, { projectId: home.projectId, endpoint: 'prices-live', stable: version.modelVersionId });
    await logPredictions(home.database.db, [
      { endpointId: priceEndpoint, versionId: version.modelVersionId, inputs: { x: 100 }, at: at(2), label: 151.25 },
      { endpointId: priceEndpoint, versionId: version.modelVersionId, inputs: { x: 101 }, at: at(3), label: 'expensive' },
    ]);
    const result = await build({ endpointName: 'prices-live', baseModelVersionId: version.modelVersionId, workflowId: 'retrain-prices-1' });
    expect(result).toMatchObject({ dataset: 'prices', rows: 31, feedbackRows: 1, skippedLabels: { unknown_class: 0, not_a_number: 1 } });
    const [built] = await home.database.db.select().from(datasetVersions).where(eq(datasetVersions.id, result.datasetVersionId));
    const table = decodeDatasetArrow(await home.artifacts.get(built?.artifactUri ?? ''));
    expect(table.numberColumn('y')[30]).toBe(151.25);
    expect(table.numberColumn('x')[30]).toBe(100);
  });
});
