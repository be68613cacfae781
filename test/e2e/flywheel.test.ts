import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredDriftReport } from '../../db/queries/monitoring';
import { distributionA, distributionB, FLYWHEEL_DRIFTED_FEATURES, FLYWHEEL_FEATURES, FLYWHEEL_PIPELINE_MODEL, flywheelCsv, flywheelRecord, type FlywheelRow } from '../support/flywheel-data';
import { recordHistory } from '../support/record-history';
import { listRetrains } from '../support/labelled-traffic';
import { startTestFactory, waitForWorkflow, type TestFactory, type WorkflowStatusBody } from '../support/test-factory';

interface PredictAnswer {
  modelVersion: { version: number };
  predictions: { id: string; label: string }[];
}
interface EndpointView {
  stable: { version: number } | null;
  canary: { version: number; weight: number } | null;
  events: { kind: string; trafficWeight: number; toVersion: { version: number } | null }[];
}
interface ScheduledMonitorEnd {
  monitorWorkflowId: string;
  window: { from: string; to: string };
  result: { drifted: boolean; retrains?: { reportId: string; outcome: string; workflowId: string | null; episode: string | null }[] } | null;
}
interface LineageBody {
  modelVersion: { model: string; version: number };
  datasetVersions: { dataset: string; version: number; rows: number; source: { kind: string } }[];
  sources: { uploads: { version: number; rows: number }[]; feedback: { version: number; endpoint: string; rows: number; modelVersions: { model: string; version: number }[] }[] };
}

/** Correct answers over labelled ones, per model version that answered. */
type Tally = Map<number, { correct: number; labelled: number }>;
const accuracyOf = (tally: Tally, version: number) => {
  const t = tally.get(version);
  return t && t.labelled > 0 ? t.correct / t.labelled : NaN;
};

const ENDPOINT = 'flywheel';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Issue 9's loop, end to end on real Temporal, database, TF.js training and onnxruntime: a model trained on A
 * serves B; a monitor schedule's run flags B's drifted features and starts exactly one retrain; the retrain
 * trains on A + the labelled B traffic, and its version is blessed, canaried under B traffic and promoted;
 * live accuracy on B recovers.
 */
describe('the data flywheel: drift on production traffic retrains, canaries and promotes a model that recovers', () => {
  let t: TestFactory;
  const startedAt = Date.now();
  /** Live accuracy of v1 on B before the retrain, as the predict answers and the labels give it. */
  const before: Tally = new Map();
  let reportedAccuracy = NaN;
  let retrainId = '';

  beforeAll(async () => {
    t = await startTestFactory({ activityTimeouts: { heartbeatTimeoutMs: 3000 } });
  });
  afterAll(async () => {
    await t?.stop();
    console.log(`flywheel e2e: ${((Date.now() - startedAt) / 1000).toFixed(1)} s wall`);
  });

  /** Sends rows to the endpoint, `batch` records a request, labels every answer with the row's own label, and tallies it. */
  async function serve(rows: readonly FlywheelRow[], tally: Tally, batch = 50): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < rows.length; i += batch) {
      const chunk = rows.slice(i, i + batch);
      const res = await t.request('POST', `/v1/endpoints/${ENDPOINT}/predict`, { json: { records: chunk.map(flywheelRecord) } });
      expect(res.status).toBe(200);
      const answer = (await res.json()) as PredictAnswer;
      const feedback = answer.predictions.map((p, j) => ({ predictionId: p.id, label: chunk[j]!.churned }));
      expect((await t.request('POST', '/v1/feedback', { json: { feedback } })).status).toBe(200);
      const seen = tally.get(answer.modelVersion.version) ?? { correct: 0, labelled: 0 };
      answer.predictions.forEach((p, j) => {
        seen.labelled += 1;
        if (p.label === chunk[j]!.churned) seen.correct += 1;
      });
      tally.set(answer.modelVersion.version, seen);
      ids.push(...answer.predictions.map((p) => p.id));
    }
    return ids;
  }

  const show = async (): Promise<EndpointView> => (await (await t.request('GET', `/v1/endpoints/${ENDPOINT}`)).json()) as EndpointView;
  const retrains = () => listRetrains(t, ENDPOINT);

  /** Fires the monitor schedule now and waits for the run it starts (scheduledMonitor, which runs monitorEndpoint as a child). */
  async function triggerMonitor(): Promise<ScheduledMonitorEnd> {
    const actions = async () => ((await (await t.request('GET', '/v1/schedules/flywheel-monitor')).json()) as { recentActions: { workflowId: string; takenAt: string }[] }).recentActions;
    const taken = (await actions()).length;
    expect((await t.request('POST', '/v1/schedules/flywheel-monitor/trigger')).status).toBe(202);
    let latest: { workflowId: string; takenAt: string }[] = [];
    for (const deadline = Date.now() + 30_000; latest.length <= taken; await sleep(200)) {
      latest = await actions();
      if (Date.now() > deadline) throw new Error('the triggered monitor run never started');
    }
    const run = latest.reduce((a, b) => (a.takenAt > b.takenAt ? a : b));
    const done = await waitForWorkflow(t, run.workflowId);
    expect(done.status, JSON.stringify(done.error)).toBe('COMPLETED');
    return done.result as unknown as ScheduledMonitorEnd;
  }

  it('trains on A and deploys it; monitoring watches the endpoint with retraining on', async () => {
    expect((await t.request('POST', '/v1/datasets/flywheel/versions?wait=true', { body: flywheelCsv(distributionA(1000)), contentType: 'text/csv' })).status).toBe(201);
    const start = await t.request('POST', '/v1/pipelines', {
      json: {
        dataset: 'flywheel',
        target: 'churned',
        model: FLYWHEEL_PIPELINE_MODEL,
        endpoint: ENDPOINT,
        minAccuracy: 0.6,
        // What every later version of this model goes out with, the retrain's included (it inherits the pipeline's input).
        rollout: {
          strategy: 'canary',
          steps: [
            { weight: 50, bakeSeconds: 3 },
            { weight: 100, bakeSeconds: 0 },
          ],
          gates: { errorRate: 0.01, minAccuracy: 0.75, minRequests: 20, gateIntervalSeconds: 1 },
        },
      },
    });
    expect(start.status).toBe(202);
    const done = await waitForWorkflow(t, ((await start.json()) as { workflowId: string }).workflowId);
    expect(done.status, JSON.stringify(done.error)).toBe('COMPLETED');
    expect(done.result).toMatchObject({ stage: 'done', modelVersion: { version: 1 }, rollout: { strategy: 'allAtOnce', requested: 'canary' } });
    expect((await show()).stable).toMatchObject({ version: 1 });

    // KS and Wasserstein a little above Evidently's defaults (0.1, made for large windows): a 400-row window's sampling noise reaches them.
    const put = await t.request('PUT', `/v1/endpoints/${ENDPOINT}/monitoring`, {
      json: { thresholds: { psi: 0.2, ks: 0.15, wasserstein: 0.25, minRows: 100, minLabels: 30 }, retrain: { enabled: true, model: FLYWHEEL_PIPELINE_MODEL } },
    });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ retrain: { enabled: true } });
  });

  it('B traffic with labels, then the monitor schedule fires: spend and price drift, and exactly one retrain starts', async () => {
    await serve(distributionB(400), before);
    expect([...before.keys()]).toEqual([1]);
    // A triggered run's scheduled time is whole seconds: let the window's end pass the last answer.
    await sleep(1100);

    // Paused, so it runs exactly when triggered: the loop's own schedule, fired now instead of at the hour.
    const created = await t.request('POST', '/v1/schedules', {
      json: { name: 'flywheel-monitor', action: { type: 'monitor', endpoint: ENDPOINT, window: '15m' }, spec: { interval: '1h' }, paused: true },
    });
    expect(created.status).toBe(201);
    const end = await triggerMonitor();
    expect(end.result?.drifted).toBe(true);

    const drift = (await (await t.request('GET', `/v1/endpoints/${ENDPOINT}/drift`)).json()) as { reports: StoredDriftReport[] };
    const report = drift.reports.find((r) => r.workflowId === end.monitorWorkflowId);
    expect(report).toMatchObject({ drifted: true, report: { rows: 400, model: { version: 1 } } });
    console.log(`flywheel drift of B on v1: ${report!.report.features.map((f) => `${f.feature} psi ${f.psi.toFixed(2)} ks ${f.ks.statistic.toFixed(2)}${f.drifted ? ` DRIFTED (${f.crossed.join(', ')})` : ''}`).join('; ')}`);
    const drifted = report!.report.features.filter((f) => f.drifted).map((f) => f.feature);
    expect(drifted.sort()).toEqual([...FLYWHEEL_DRIFTED_FEATURES].sort());
    expect(report!.report.features.map((f) => f.feature).sort()).toEqual([...FLYWHEEL_FEATURES].sort());
    reportedAccuracy = report!.report.live.accuracy ?? NaN;
    expect(report!.report.live.labelled).toBe(400);
    expect(reportedAccuracy).toBeCloseTo(accuracyOf(before, 1), 5);

    // The monitor asked for a retrain once per drifted report, and started it.
    expect(end.result?.retrains).toHaveLength(1);
    const [asked] = end.result!.retrains!;
    expect(asked).toMatchObject({ reportId: report!.id, outcome: 'started' });
    retrainId = asked!.workflowId!;
    const claims = await retrains();
    expect(claims).toHaveLength(1);
    expect(claims[0]).toMatchObject({ workflowId: retrainId, episode: asked!.episode, trigger: { kind: 'drift', monitorWorkflowId: end.monitorWorkflowId } });
    // Temporal's visibility (what the UI lists) agrees: one retrainEndpoint for this endpoint.
    let listed: { workflowId: string }[] = [];
    for (const deadline = Date.now() + 15_000; listed.length === 0 && Date.now() < deadline; await sleep(250)) {
      listed = ((await (await t.request('GET', `/v1/workflows?type=retrainEndpoint&endpoint=${ENDPOINT}`)).json()) as { workflows: { workflowId: string }[] }).workflows;
    }
    expect(listed.map((w) => w.workflowId)).toEqual([retrainId]);
  });

  it('the schedule firing again while the retrain runs sees the same drift episode and starts nothing', async () => {
    await sleep(1100);
    const end = await triggerMonitor();
    expect(end.result?.drifted).toBe(true);
    expect(end.result?.retrains).toMatchObject([{ workflowId: retrainId }]);
    expect(['claimed_before', 'skipped']).toContain(end.result?.retrains?.[0]?.outcome);
    expect((await retrains()).map((r) => r.workflowId)).toEqual([retrainId]);
  });

  it('the retrain trains on A + labelled B, and its version is blessed, canaried under B traffic and promoted', async () => {
    const during: Tally = new Map();
    const canaryWeights = new Set<number>();
    let retrainEnd: WorkflowStatusBody | undefined;
    const deadline = Date.now() + 140_000;
    // B traffic keeps flowing (the canary's gates judge it), labelled as it is answered.
    // Every stage shows through the API while it runs: the retrain's own, then its pipeline's.
    const retrainStages = new Set<string>();
    const pipelineStages = new Set<string>();
    const statusOf = async (id: string) => (await (await t.request('GET', `/v1/workflows/${encodeURIComponent(id)}`)).json()) as WorkflowStatusBody & { progress?: { pipelineWorkflowId?: string | null } };
    for (let i = 0; !retrainEnd; i++) {
      await serve(distributionB(10, `flywheel-b-during-${i}`), during, 10);
      const body = await statusOf(retrainId);
      if (body.progress) retrainStages.add(body.progress.stage);
      const pipelineId = body.progress?.pipelineWorkflowId;
      if (pipelineId) pipelineStages.add((await statusOf(pipelineId)).progress?.stage ?? '');
      if (body.status !== 'RUNNING') retrainEnd = body;
      const canary = (await show()).canary;
      if (canary) canaryWeights.add(canary.weight);
      if (Date.now() > deadline) throw new Error(`retrain ${retrainId} still running: ${JSON.stringify(await retrains())}`);
    }
    expect(retrainEnd.status, JSON.stringify(retrainEnd.error)).toBe('COMPLETED');
    expect(retrainEnd.result).toMatchObject({ status: 'succeeded', outcome: { pipelineStage: 'done', modelVersion: { version: 2, blessed: true } } });
    expect(retrainStages).toContain('pipeline');
    expect(pipelineStages).toContain('rollout');

    const [claim, ...others] = await retrains();
    expect(others).toEqual([]);
    expect(claim).toMatchObject({ workflowId: retrainId, status: 'succeeded', outcome: { modelVersion: { version: 2 } } });
    // The dataset: A's 1000 rows plus every labelled B answer up to the drifted window's end.
    expect(claim!.outcome?.dataset).toMatchObject({ feedbackRows: 400, rows: 1400 });

    const pipeline = await waitForWorkflow(t, claim!.pipelineWorkflowId!);
    expect(pipeline.result).toMatchObject({ stage: 'done', modelVersion: { version: 2, blessed: true }, rollout: { strategy: 'canary', status: 'succeeded', breached: null } });
    const gates = (pipeline.result as { rollout: { gates: { gate: string; value: number | null; samples: number; passed: boolean }[] } }).rollout.gates;
    const canaryAccuracy = gates.find((g) => g.gate === 'minAccuracy');
    expect(canaryAccuracy?.samples).toBeGreaterThan(0);
    expect(canaryAccuracy?.passed).toBe(true);

    // Blessed against the champion (v1) scored on v2's own held-out rows, which hold B.
    const registered = (await (await t.request('GET', `/v1/models/${ENDPOINT}/versions/2`)).json()) as {
      evaluation: { accuracy: number };
      blessing: { decision: string; champion: { version?: number; metric: string; value: number } | null };
    };
    expect(registered.blessing).toMatchObject({ decision: 'blessed', champion: { version: 1, metric: 'accuracy' } });
    expect(registered.evaluation.accuracy).toBeGreaterThan(registered.blessing.champion!.value);

    const endpoint = await show();
    expect(endpoint.stable).toMatchObject({ version: 2 });
    expect(endpoint.canary).toBeNull();
    expect(endpoint.events.filter((e) => e.toVersion?.version === 2).map((e) => [e.kind, e.trafficWeight])).toEqual([
      ['promote', 100],
      ['canary', 50],
    ]);
    expect(during.get(2)?.labelled ?? 0).toBeGreaterThan(0);
    console.log(
      `flywheel stages seen through the API: retrain ${[...retrainStages].join(' → ')}; its pipeline ${[...pipelineStages].join(' → ')}\n` +
        `flywheel blessing: v2 accuracy ${registered.evaluation.accuracy.toFixed(3)} on its held-out rows, champion v1 ${registered.blessing.champion!.value.toFixed(3)} on the same rows\n` +
        `flywheel canary: v2 at ${[...canaryWeights].join(', ')} %, gate minAccuracy ${canaryAccuracy?.value?.toFixed(3)} on ${canaryAccuracy?.samples} labels; ` +
        `live during the canary: v1 ${accuracyOf(during, 1).toFixed(3)}, v2 ${accuracyOf(during, 2).toFixed(3)}`,
    );
    await recordHistory(retrainId, 'retrain-endpoint-flywheel.json');
  }, 150_000);

  it('fresh B traffic on the promoted version: live accuracy on B recovers, and its answers trace back to the labelled B traffic', async () => {
    const after: Tally = new Map();
    const ids = await serve(distributionB(400, 'flywheel-b-after'), after);
    expect([...after.keys()]).toEqual([2]);
    const old = accuracyOf(before, 1);
    const recovered = accuracyOf(after, 2);
    console.log(`flywheel live accuracy on B: v1 (A only) ${old.toFixed(3)} (drift report ${reportedAccuracy.toFixed(3)}), v2 (A + labelled B) ${recovered.toFixed(3)}`);
    expect(recovered - old).toBeGreaterThan(0.1);

    const lineage = (await (await t.request('GET', `/v1/predictions/${ids[0]}/lineage`)).json()) as LineageBody;
    expect(lineage.modelVersion).toMatchObject({ model: ENDPOINT, version: 2 });
    expect(lineage.datasetVersions.map((d) => [d.dataset, d.version, d.rows, d.source.kind])).toEqual([
      ['flywheel', 2, 1400, 'retrain'],
      ['flywheel', 1, 1000, 'upload'],
    ]);
    expect(lineage.sources.uploads).toMatchObject([{ version: 1, rows: 1000 }]);
    expect(lineage.sources.feedback).toMatchObject([{ version: 2, endpoint: ENDPOINT, rows: 400, modelVersions: [{ model: ENDPOINT, version: 1 }] }]);
  });

  it("the whole loop is listed under the endpoint's search attribute, as the Temporal UI filters it", async () => {
    const listed = ((await (await t.request('GET', `/v1/workflows?endpoint=${ENDPOINT}&pageSize=100`)).json()) as { workflows: { workflowId: string; type: string; status: string }[] }).workflows;
    const count = (type: string) => listed.filter((w) => w.type === type).length;
    expect({
      scheduledMonitor: count('scheduledMonitor'),
      monitorEndpoint: count('monitorEndpoint'),
      retrainEndpoint: count('retrainEndpoint'),
      factoryPipeline: count('factoryPipeline'),
      endpointController: count('endpointController'),
    }).toEqual({ scheduledMonitor: 2, monitorEndpoint: 2, retrainEndpoint: 1, factoryPipeline: 2, endpointController: 1 });
  });
});
