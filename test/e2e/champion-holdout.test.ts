import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../activities/deps';
import { loadTrainingData } from '../../activities/train/load-training-data';
import { ArtifactStore } from '../../artifacts/store';
import { contentColumns, rowPlaces } from '../../data/row-split';
import { trainingRuns } from '../../db/schema';
import type { EvaluationReport } from '../../domain/model';
import { churnRows, toCsv } from '../support/synthetic-data';
import { startTestFactory, waitForWorkflow, type TestFactory } from '../support/test-factory';

/** Issue 15, item 6: a retrain's larger dataset is compared with the champion only on rows the champion never trained on. */
describe('the champion comparison on a retrain-like dataset', () => {
  let t: TestFactory;
  let deps: ActivityDeps;
  let championRunId = '';
  const base = churnRows(600, 'holdout-a');
  // The retrain's dataset: the champion's rows (reordered) plus new ones, as a retrain appends labelled traffic.
  const grown = [...churnRows(400, 'holdout-b'), ...[...base].reverse()];

  beforeAll(async () => {
    t = await startTestFactory({ activityTimeouts: { heartbeatTimeoutMs: 3000 } });
    deps = { db: t.database.db, artifacts: new ArtifactStore(t.artifactRoot) } as ActivityDeps;
    expect((await t.request('POST', '/v1/datasets/churn/versions?wait=true', { body: toCsv(base), contentType: 'text/csv' })).status).toBe(201);
  });
  afterAll(async () => {
    await t?.stop();
  });

  async function pipeline(extra: Record<string, unknown> = {}): Promise<Response> {
    return t.request('POST', '/v1/pipelines', { json: { dataset: 'churn', target: 'churned', model: { type: 'logistic', epochs: 5, learningRate: 0.1 }, endpoint: 'churn', ...extra } });
  }
  async function evaluated(res: Response): Promise<{ runId: string; report: EvaluationReport }> {
    expect(res.status).toBe(202);
    const done = await waitForWorkflow(t, ((await res.json()) as { workflowId: string }).workflowId);
    expect(done.status).toBe('COMPLETED');
    const runId = (done.result as { trainingRunId: string }).trainingRunId;
    const [run] = await t.database.db.select().from(trainingRuns).where(eq(trainingRuns.id, runId));
    return { runId, report: run!.evaluation! };
  }

  it('refuses a splitKey that is not a column with 422 unknown_split_key', async () => {
    const res = await pipeline({ splitKey: 'customer' });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ error: { code: 'unknown_split_key' } });
  });

  it('the champion, then a candidate on the superset (same hash split): every held-out row is one neither trained on, none excluded', async () => {
    const champion = await evaluated(await pipeline());
    championRunId = champion.runId;
    expect(champion.report.split).toMatchObject({ method: 'hash', key: null });
    expect((await t.request('POST', '/v1/datasets/churn/versions?wait=true', { body: toCsv(grown), contentType: 'text/csv' })).status).toBe(201);

    // A floor no model reaches keeps the champion in production for the next case.
    const { report } = await evaluated(await pipeline({ minAccuracy: 1 }));
    expect(report.champion).toMatchObject({ status: 'compared', version: 1, rows: report.split.rows, excluded: [] });
  });

  it('a champion recorded with the old shuffled split: its training rows among the held-out ones are left out and counted', async () => {
    // Runs from before hash splits have no recorded split: they were split by a seeded shuffle of row indices.
    await t.database.db.update(trainingRuns).set({ split: null }).where(eq(trainingRuns.id, championRunId));
    const { runId, report } = await evaluated(await pipeline({ minAccuracy: 1 }));

    // Independently: the candidate's held-out rows whose content is among the champion's shuffled training rows.
    const content = contentColumns('churned', ['tenure', 'spend', 'noise']);
    const champion = await loadTrainingData(deps, championRunId);
    const learnt = new Set(rowPlaces(champion.table, content, Array.from(champion.split.train, (i) => champion.matrix.sourceRows[i]!)));
    const candidate = await loadTrainingData(deps, runId);
    const held = rowPlaces(candidate.table, content, Array.from(candidate.split.test, (i) => candidate.matrix.sourceRows[i]!));
    const seen = held.filter((p) => learnt.has(p)).length;
    expect(seen).toBeGreaterThan(10);

    expect(report.champion).toMatchObject({
      status: 'compared',
      version: 1,
      rows: report.split.rows - seen,
      excluded: [{ rows: seen, reason: "in the champion v1's training rows (its shuffled split, matched by content)" }],
    });
  });
});
