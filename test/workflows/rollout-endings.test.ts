import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpoints, modelAliases, models, servedRoutes } from '../../db/schema';
import { exportOnnx } from '../../ml/onnx-export';
import type { TrainedRegressor } from '../../ml/trained-model';
import { endpointController } from '../../workflows';
import {
  abortUpdate,
  deployUpdate,
  endpointControllerWorkflowId,
  endpointStatusQuery,
  factorySearchAttributes,
  rolloutOutcomeUpdate,
  type DeployRequest,
  type EndpointControllerInput,
  type RolloutState,
} from '../../workflows/contracts';
import { CANDIDATE_FEATURES, registerCandidate } from '../support/candidate-models';
import { goodClassifier, nanOnnx } from '../support/onnx-graphs';
import { recordHistory } from '../support/record-history';
import { startTestFactory, type TestFactory } from '../support/test-factory';

type Version = { versionId: string; model: string; version: number };

/**
 * Every way a rollout can end, each checked from outside: what the endpoint row routes and where the model's
 * `production` alias points must agree: the candidate when it was promoted, the last good version otherwise.
 * The rollouts move `production` with their promotion, as a pipeline's deploy stage without promotion asks.
 */
describe('however a rollout ends, the endpoint and the registry agree', () => {
  let t: TestFactory;
  const model = 'ends';
  const v: Record<'good' | 'better' | 'nan' | 'contrarian' | 'unloadable' | 'regressor', Version> = {} as never;

  const register = async (bytes: Uint8Array, regression = false): Promise<Version> => {
    const spec = { model, features: CANDIDATE_FEATURES, ...(regression && { outputSchema: { name: 'value' as const, task: 'regression' as const, target: 'y' } }) };
    const r = await registerCandidate(t, bytes, spec);
    return { versionId: r.modelVersionId, model, version: r.version };
  };

  beforeAll(async () => {
    t = await startTestFactory();
    v.good = await register(exportOnnx(goodClassifier(0.1)));
    v.better = await register(exportOnnx(goodClassifier(0.3)));
    v.nan = await register(nanOnnx());
    v.contrarian = await register(exportOnnx(goodClassifier(-20)));
    // Bytes onnxruntime cannot parse: every server fails to load this version.
    v.unloadable = await register(new TextEncoder().encode('not an onnx model'));
    const regressor: TrainedRegressor = {
      format: 'ai-factory.dense.v2',
      family: 'linear',
      features: CANDIDATE_FEATURES,
      standardisation: { mean: [0, 0], std: [1, 1] },
      layers: [{ inputSize: 2, units: 1, kernel: [1, 2], bias: [0], activation: 'linear' }],
      task: 'regression',
      target: { mean: 10, std: 3 },
    };
    v.regressor = await register(exportOnnx(regressor), true);
  });
  afterAll(async () => {
    await t?.stop();
  });

  /** A fresh endpoint whose stable version (and `production`) is `good`, with its controller running. */
  async function endpointOnGood(name: string) {
    const workflowId = endpointControllerWorkflowId(t.projectId, name);
    const input: EndpointControllerInput = { projectId: t.projectId, endpointName: name };
    await t.factory.client.workflow.start(endpointController, {
      workflowId,
      taskQueue: t.taskQueues.cpu,
      args: [input],
      memo: { projectId: t.projectId },
      typedSearchAttributes: factorySearchAttributes({ projectId: t.projectId, endpoint: name }),
    });
    const handle = t.factory.client.workflow.getHandle(workflowId);
    const deploy = (request: Omit<DeployRequest, 'reason' | 'requestedBy' | 'moveProductionAlias'>) =>
      handle.executeUpdate(deployUpdate, { args: [{ ...request, reason: 'test', requestedBy: 'test', moveProductionAlias: true }] });
    const outcome = (rolloutId: string): Promise<RolloutState> => handle.executeUpdate(rolloutOutcomeUpdate, { args: [{ rolloutId }] });
    await deploy({ rolloutId: 'base', candidate: v.good, strategy: { type: 'allAtOnce' } });
    expect(await outcome('base')).toMatchObject({ status: 'succeeded' });
    // A request makes this process hold the endpoint, so it reports what it serves.
    expect((await predict(name)).status).toBe(200);
    return { handle, deploy, outcome, workflowId };
  }

  const predict = (name: string) => t.request('POST', `/v1/endpoints/${name}/predict`, { json: { records: [{ f0: Math.random() * 2 - 1, f1: Math.random() * 2 - 1 }] } });

  /** Sends predictions until the promise settles: the traffic a bake judges. */
  async function withTraffic<T>(name: string, running: Promise<T>): Promise<T> {
    let done = false;
    const settled = running.finally(() => (done = true));
    while (!done) {
      await predict(name);
      await new Promise((r) => setTimeout(r, 5));
    }
    return settled;
  }

  /** What the endpoint row routes to and where `production` points, straight from the database. */
  async function servedAndProduction(name: string) {
    const [row] = await t.database.db.select().from(endpoints).where(and(eq(endpoints.projectId, t.projectId), eq(endpoints.name, name)));
    const [alias] = await t.database.db
      .select({ versionId: modelAliases.modelVersionId })
      .from(modelAliases)
      .innerJoin(models, eq(models.id, modelAliases.modelId))
      .where(and(eq(models.projectId, t.projectId), eq(models.name, model), eq(modelAliases.alias, 'production')));
    return { stable: row?.stableVersionId, canary: row?.canaryVersionId ?? null, shadow: row?.shadowVersionId ?? null, production: alias?.versionId };
  }

  const onlyOn = (version: Version) => ({ stable: version.versionId, canary: null, shadow: null, production: version.versionId });
  const fast = { gateIntervalSeconds: 1, maxBakeExtensionSeconds: 2 };

  it('promoted: the candidate serves and holds production (a server gone quiet for a minute is not waited for)', async () => {
    const c = await endpointOnGood('ends-promoted');
    const [row] = await t.database.db.select({ id: endpoints.id }).from(endpoints).where(and(eq(endpoints.projectId, t.projectId), eq(endpoints.name, 'ends-promoted')));
    const longAgo = new Date(Date.now() - 60_000);
    await t.database.db.insert(servedRoutes).values({ instanceId: 'srv_gone', host: 'gone', pid: 1, endpointId: row?.id ?? '', route: 'stable', versionId: v.good.versionId, wantedVersionId: v.good.versionId, updatedAt: longAgo, heartbeatAt: longAgo });
    await c.deploy({ rolloutId: 'r', candidate: v.better, strategy: { type: 'canary', steps: [{ weight: 50, bakeSeconds: 1 }, { weight: 100, bakeSeconds: 1 }] }, gates: { errorRate: 0.1, minRequests: 5, ...fast } });
    expect(await withTraffic('ends-promoted', c.outcome('r'))).toMatchObject({ status: 'succeeded' });
    expect(await servedAndProduction('ends-promoted')).toEqual(onlyOn(v.better));
  });

  it('gate breach after the candidate took 100 % (and production): both go back', async () => {
    const c = await endpointOnGood('ends-breach');
    await c.deploy({ rolloutId: 'r', candidate: v.nan, strategy: { type: 'canary', steps: [{ weight: 100, bakeSeconds: 3 }] }, gates: { errorRate: 0.05, minRequests: 5, ...fast } });
    const end = await withTraffic('ends-breach', c.outcome('r'));
    expect(await servedAndProduction('ends-breach')).toEqual(onlyOn(v.good));
    expect(end).toMatchObject({ status: 'rolled_back', failure: 'gate_breached', breached: { gate: 'errorRate' } });
  });

  it('abort at 100 %: both go back', async () => {
    const c = await endpointOnGood('ends-abort');
    await c.deploy({ rolloutId: 'r', candidate: v.better, strategy: { type: 'canary', steps: [{ weight: 100, bakeSeconds: 60 }] }, gates: { errorRate: 0.1 }, waitForFirstStep: true });
    expect((await servedAndProduction('ends-abort')).production).toBe(v.better.versionId);
    await c.handle.executeUpdate(abortUpdate, { args: [{ by: 'test', reason: 'changed my mind' }] });
    expect(await c.outcome('r')).toMatchObject({ status: 'aborted' });
    expect(await servedAndProduction('ends-abort')).toEqual(onlyOn(v.good));
  });

  it('simulation failed: nothing moved', async () => {
    const c = await endpointOnGood('ends-twin');
    for (let i = 0; i < 20; i++) await predict('ends-twin');
    await c.deploy({ rolloutId: 'r', candidate: v.contrarian, strategy: { type: 'canary', steps: [{ weight: 100, bakeSeconds: 1 }] }, gates: { errorRate: 0.1 }, simulate: { minAgreement: 0.9, requests: 20 } });
    expect(await c.outcome('r')).toMatchObject({ status: 'failed', failure: 'simulation_failed' });
    expect(await servedAndProduction('ends-twin')).toEqual(onlyOn(v.good));
  });

  it('insufficient traffic: the step waits out its extension, then both go back', async () => {
    const c = await endpointOnGood('ends-quiet');
    const started = Date.now();
    await c.deploy({ rolloutId: 'r', candidate: v.better, strategy: { type: 'canary', steps: [{ weight: 100, bakeSeconds: 1 }] }, gates: { errorRate: 0.1, ...fast } });
    const end = await c.outcome('r');
    expect(end).toMatchObject({ status: 'rolled_back', failure: 'insufficient_traffic' });
    expect(end.outcome).toMatch(/insufficient traffic at step 1 of 1 after its 1 s bake and 2 s more: 0 candidate predictions, fewer than the 50 minRequests asks for/);
    // Read at each interval of the bake and of its extension.
    expect(end.gateReads).toBeGreaterThanOrEqual(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
    expect(await servedAndProduction('ends-quiet')).toEqual(onlyOn(v.good));
    await recordHistory(c.workflowId, 'endpoint-controller-insufficient-traffic.json');
  });

  it('a candidate no server can load: rolled back naming the server and its error', async () => {
    const c = await endpointOnGood('ends-unloadable');
    await c.deploy({ rolloutId: 'r', candidate: v.unloadable, strategy: { type: 'canary', steps: [{ weight: 100, bakeSeconds: 30 }] }, gates: { errorRate: 0.1 } });
    const end = await c.outcome('r');
    expect(end).toMatchObject({ status: 'rolled_back', failure: 'candidate_load_failed', serving: { loadFailure: { versionId: v.unloadable.versionId, pid: process.pid } } });
    expect(end.outcome).toContain(`failed to load on server ${end.serving?.loadFailure?.host} (pid ${process.pid}`);
    expect(await servedAndProduction('ends-unloadable')).toEqual(onlyOn(v.good));
  });

  it('a server that starts serving mid-bake and cannot load the candidate: rolled back at the next gate read, naming it', async () => {
    const c = await endpointOnGood('ends-late-server');
    await c.deploy({ rolloutId: 'r', candidate: v.better, strategy: { type: 'canary', steps: [{ weight: 50, bakeSeconds: 120 }, { weight: 100, bakeSeconds: 0 }] }, gates: { errorRate: 0.1, gateIntervalSeconds: 1 }, waitForFirstStep: true });
    // The step passed its pre-bake check (this process serves it) and bakes; gates are read every second.
    await expect.poll(async () => (await c.handle.query(endpointStatusQuery)).rollout?.gateReads ?? 0, { timeout: 15_000 }).toBeGreaterThanOrEqual(1);
    const [row] = await t.database.db.select({ id: endpoints.id }).from(endpoints).where(and(eq(endpoints.projectId, t.projectId), eq(endpoints.name, 'ends-late-server')));
    // What a routing table writes when its load of the canary fails (serving/routing-table.ts), from another machine.
    await t.database.db.insert(servedRoutes).values([
      { instanceId: 'srv_late', host: 'edge-7', pid: 4242, endpointId: row?.id ?? '', route: 'stable', versionId: v.good.versionId, wantedVersionId: v.good.versionId },
      { instanceId: 'srv_late', host: 'edge-7', pid: 4242, endpointId: row?.id ?? '', route: 'canary', versionId: null, wantedVersionId: v.better.versionId, loadError: 'No space left on device' },
    ]);
    const started = Date.now();
    const end = await c.outcome('r');
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(end).toMatchObject({ status: 'rolled_back', failure: 'candidate_load_failed' });
    expect(end.outcome).toContain('failed to load on server edge-7 (pid 4242, instance srv_late) for its canary route at step 1 of 2: No space left on device');
    expect(await servedAndProduction('ends-late-server')).toEqual(onlyOn(v.good));
  });

  it('an activity that gives up mid-rollout (a gate read that cannot compare): traffic returns, the rollout says why', async () => {
    const c = await endpointOnGood('ends-gave-up');
    await c.deploy({ rolloutId: 'r', candidate: v.regressor, strategy: { type: 'canary', steps: [{ weight: 50, bakeSeconds: 2 }, { weight: 100, bakeSeconds: 0 }] }, gates: { predictionShiftPsi: 0.2, minRequests: 5, ...fast } });
    const end = await withTraffic('ends-gave-up', c.outcome('r'));
    expect(end).toMatchObject({ status: 'failed', failure: 'traffic_change_failed' });
    expect(end.outcome).toMatch(/^evaluateRolloutGates gave up: The candidate is a regression model and the stable version a classification one; their outputs cannot be compared; all traffic is on the last good version/);
    expect(await servedAndProduction('ends-gave-up')).toEqual(onlyOn(v.good));
  });
});
