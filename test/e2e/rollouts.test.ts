import { hostname } from 'node:os';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpoints, servedRoutes } from '../../db/schema';
import { exportOnnx } from '../../ml/onnx-export';
import { shiftedClassifier, slowClassifier } from '../support/candidate-models';
import { goodClassifier, nanOnnx } from '../support/onnx-graphs';
import { recordHistory } from '../support/record-history';
import { registerOnnxVersion } from '../support/register-version';
import { startTestFactory, type TestFactory } from '../support/test-factory';

interface VersionView {
  model: string;
  version: number;
}
interface GateView {
  gate: string;
  threshold: number;
  value: number | null;
  samples: number;
  passed: boolean;
}
interface EndpointView {
  name: string;
  stable: VersionView | null;
  canary: (VersionView & { weight: number }) | null;
  shadow: VersionView | null;
  rollout: {
    rolloutId: string;
    status: string;
    step: number;
    steps: number;
    gates: GateView[];
    breached: GateView | null;
    outcome: string | null;
    failure: string | null;
    remainingBakeMs: number | null;
  } | null;
  events: { kind: string; trafficWeight: number; reason: string; toVersion: VersionView | null }[];
}

/** Rollouts end to end through the API, with real traffic through predict during every bake. */
describe('progressive delivery: the endpoint controller rolls candidates out and back', () => {
  let t: TestFactory;
  const v = { stable: 0, good: 0, nan: 0, other: 0, shifted: 0, slow: 0 };

  beforeAll(async () => {
    t = await startTestFactory();
    // churn v1 and v2 answer (slightly different) probabilities; v3 answers NaN for every row.
    v.stable = (await registerOnnxVersion(t, 'churn', exportOnnx(goodClassifier(0.1)))).version;
    v.good = (await registerOnnxVersion(t, 'churn', exportOnnx(goodClassifier(0.3)))).version;
    v.nan = (await registerOnnxVersion(t, 'churn', nanOnnx())).version;
    v.other = (await registerOnnxVersion(t, 'churn', exportOnnx(goodClassifier(-0.2)))).version;
    // v5 answers "yes" near 1 for everything; v6 answers like v1 but takes tens of milliseconds a row.
    v.shifted = (await registerOnnxVersion(t, 'churn', shiftedClassifier())).version;
    v.slow = (await registerOnnxVersion(t, 'churn', slowClassifier())).version;
  });
  afterAll(async () => {
    await t?.stop();
  });

  const rollout = (endpoint: string, json: Record<string, unknown>) => t.request('POST', `/v1/endpoints/${endpoint}/rollouts`, { json: { model: 'churn', ...json } });
  const show = async (endpoint: string): Promise<EndpointView> => (await (await t.request('GET', `/v1/endpoints/${endpoint}`)).json()) as EndpointView;
  const act = (endpoint: string, action: string) => t.request('POST', `/v1/endpoints/${endpoint}/rollouts/current/${action}`);
  /** The rollout status the endpoint row holds, as GET /v1/endpoints lists it from the database (no controller query). */
  async function listedStatus(endpoint: string, expected: string): Promise<string | undefined> {
    let status: string | undefined;
    for (let i = 0; i < 100 && status !== expected; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 50));
      const { endpoints } = (await (await t.request('GET', '/v1/endpoints')).json()) as { endpoints: { name: string; rollout: { status: string } | null }[] };
      status = endpoints.find((e) => e.name === endpoint)?.rollout?.status;
    }
    return status;
  }

  /** Sends predictions (ignoring the candidate's failures) until `done` holds for the endpoint's state. */
  async function driveUntil(endpoint: string, done: (view: EndpointView) => boolean, timeoutMs = 60_000): Promise<EndpointView> {
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; ; i++) {
      await t.request('POST', `/v1/endpoints/${endpoint}/predict`, { json: { records: [{ f0: Math.random() * 2 - 1, f1: Math.random() * 2 - 1 }] } });
      if (i % 10 === 0) {
        const view = await show(endpoint);
        if (done(view)) return view;
        if (Date.now() > deadline) throw new Error(`endpoint ${endpoint} never reached the state: ${JSON.stringify(view.rollout)}`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async function deployStable(endpoint: string): Promise<void> {
    const id = await idOf(await rollout(endpoint, { version: v.stable, strategy: 'allAtOnce' }));
    await driveUntil(endpoint, (e) => e.stable?.version === v.stable && ended(id)(e) && e.rollout?.status === 'succeeded');
  }

  /** Polls the endpoint, sending no traffic, until `done` holds. */
  async function waitFor(endpoint: string, done: (view: EndpointView) => boolean, timeoutMs = 60_000): Promise<EndpointView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const view = await show(endpoint);
      if (done(view)) return view;
      if (Date.now() > deadline) throw new Error(`endpoint ${endpoint} never reached the state: ${JSON.stringify(view.rollout)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  const idOf = async (res: Response): Promise<string> => {
    expect(res.status).toBe(202);
    return ((await res.json()) as { rolloutId: string }).rolloutId;
  };
  /** The given rollout has ended (a GET before the controller answers may still show the one before). */
  const ended = (rolloutId: string) => (e: EndpointView) => e.rollout?.rolloutId === rolloutId && finished(e);
  const finished = (e: EndpointView) => !!e.rollout && !['pending', 'simulating', 'running', 'paused'].includes(e.rollout.status);

  it('a good candidate goes through every canary step to 100 % and becomes stable', async () => {
    await deployStable('good');
    const res = await rollout('good', {
      version: v.good,
      strategy: 'canary',
      steps: [
        { weight: 20, bakeSeconds: 1 },
        { weight: 50, bakeSeconds: 1 },
        { weight: 100, bakeSeconds: 1 },
      ],
      // One-second steps at 20 % see a few dozen candidate requests: judged on 10 of them, read every second.
      gates: { errorRate: 0.01, p99LatencyMs: 5000, minRequests: 10, gateIntervalSeconds: 1 },
    });
    expect(res.status).toBe(202);
    const accepted = (await res.json()) as { workflowId: string; rolloutId: string; steps: unknown[] };
    expect(accepted.workflowId).toBe(`endpoint/${t.projectId}/good`);
    expect(accepted.steps).toHaveLength(3);

    const seen = new Set<number>();
    const end = await driveUntil('good', (e) => {
      if (e.canary) seen.add(e.canary.weight);
      return ended(accepted.rolloutId)(e);
    });
    expect(end.rollout).toMatchObject({ rolloutId: accepted.rolloutId, status: 'succeeded', step: 3, steps: 3 });
    expect(end.stable).toMatchObject({ model: 'churn', version: v.good });
    expect(end.canary).toBeNull();
    expect(end.rollout?.gates.map((g) => g.gate).sort()).toEqual(['errorRate', 'p99LatencyMs']);
    expect(end.rollout?.gates.every((g) => g.passed)).toBe(true);
    // Every step is one event, in order: 20 %, 50 %, then the promotion to 100 %.
    const mine = end.events.filter((e) => e.toVersion?.version === v.good).reverse();
    expect(mine.map((e) => [e.kind, e.trafficWeight])).toEqual([
      ['canary', 20],
      ['canary', 50],
      ['promote', 100],
    ]);
    // The controller is listed with the endpoint's workflows.
    const listed = (await (await t.request('GET', '/v1/workflows?endpoint=good')).json()) as { workflows: { workflowId: string; type: string }[] };
    expect(listed.workflows.some((w) => w.type === 'endpointController' && w.workflowId === accepted.workflowId)).toBe(true);
    // The workflow route shows the controller's state as its progress.
    const described = (await (await t.request('GET', `/v1/workflows/${accepted.workflowId}`)).json()) as { type: string; progress: { stable: { version: number } } };
    expect(described).toMatchObject({ type: 'endpointController', progress: { stable: { version: v.good } } });
    await recordHistory(accepted.workflowId, 'endpoint-controller-canary.json');
  });

  it('a candidate answering NaN is rolled back by the error-rate gate, which the endpoint names', async () => {
    await deployStable('bad');
    const res = await rollout('bad', {
      version: v.nan,
      strategy: 'canary',
      steps: [
        { weight: 50, bakeSeconds: 2 },
        { weight: 100, bakeSeconds: 0 },
      ],
      gates: { errorRate: 0.05, minRequests: 20, gateIntervalSeconds: 1 },
    });
    const end = await driveUntil('bad', ended(await idOf(res)));
    expect(end.rollout).toMatchObject({ status: 'rolled_back', step: 1, breached: { gate: 'errorRate', threshold: 0.05, passed: false } });
    expect(end.rollout?.breached?.value).toBeGreaterThan(0.05);
    expect(end.stable).toMatchObject({ version: v.stable });
    expect(end.canary).toBeNull();
    expect(end.events[0]).toMatchObject({ kind: 'rollback', trafficWeight: 0 });
    expect(end.events[0]?.reason).toMatch(/gate errorRate breached at step 1 of 2: errorRate 1 > 0.05 over \d+ predictions/);
    // The candidate never reached 100 %.
    expect(end.events.some((e) => e.kind === 'promote' && e.toVersion?.version === v.nan)).toBe(false);
    await recordHistory(`endpoint/${t.projectId}/bad`, 'endpoint-controller-gate-breached.json');
  });

  for (const bad of [
    { kind: 'shifted', gate: 'predictionShiftPsi', gates: { errorRate: 0.05, predictionShiftPsi: 0.2, minRequests: 20, gateIntervalSeconds: 1 } },
    { kind: 'slow', gate: 'p99LatencyMs', gates: { errorRate: 0.05, p99LatencyMs: 30, minRequests: 20, gateIntervalSeconds: 1 } },
  ] as const) {
    it(`a ${bad.kind} candidate is rolled back by the ${bad.gate} gate, with its numbers`, async () => {
      const endpoint = `bad-${bad.kind}`;
      await deployStable(endpoint);
      const res = await rollout(endpoint, {
        version: v[bad.kind],
        strategy: 'canary',
        steps: [
          { weight: 50, bakeSeconds: 2 },
          { weight: 100, bakeSeconds: 0 },
        ],
        gates: bad.gates,
      });
      const end = await driveUntil(endpoint, ended(await idOf(res)));
      expect(end.rollout).toMatchObject({ status: 'rolled_back', step: 1, breached: { gate: bad.gate, threshold: bad.gates[bad.gate as keyof typeof bad.gates], passed: false } });
      // The error-rate gate held: it is the other gate that caught this candidate.
      expect(end.rollout?.gates.find((g) => g.gate === 'errorRate')).toMatchObject({ passed: true, value: 0 });
      expect(end.stable).toMatchObject({ version: v.stable });
      expect(end.canary).toBeNull();
      expect(end.events[0]?.reason).toMatch(new RegExp(`gate ${bad.gate} breached at step 1 of 2: ${bad.gate} [\\d.]+ > [\\d.]+ over \\d+ predictions`));
    });
  }

  it('pause stops the bake clock, resume goes on, abort rolls back mid-rollout', async () => {
    await deployStable('steer');
    expect((await act('steer', 'pause')).status).toBe(409);
    const res = await rollout('steer', {
      version: v.good,
      strategy: 'canary',
      steps: [
        { weight: 10, bakeSeconds: 2 },
        { weight: 50, bakeSeconds: 60 },
        { weight: 100, bakeSeconds: 0 },
      ],
      // 10 % of the driven traffic: a handful of candidate requests is enough here, read every second.
      gates: { errorRate: 0.5, minRequests: 5, gateIntervalSeconds: 1 },
    });
    expect(res.status).toBe(202);
    await driveUntil('steer', (e) => e.canary?.weight === 10);
    const resumeEarly = await act('steer', 'resume');
    expect(resumeEarly.status).toBe(409);
    expect(((await resumeEarly.json()) as { error: { code: string } }).error.code).toBe('rollout_not_paused');

    const paused = await act('steer', 'pause');
    expect(paused.status).toBe(200);
    expect(((await paused.json()) as { rollout: { status: string } }).rollout.status).toBe('paused');
    expect(await listedStatus('steer', 'paused')).toBe('paused');
    // Longer than the step's bake: a paused rollout stays where it is.
    await new Promise((r) => setTimeout(r, 3000));
    const held = await show('steer');
    expect(held.rollout).toMatchObject({ status: 'paused', step: 1 });
    expect(held.rollout?.remainingBakeMs).toBeGreaterThan(0);
    expect(held.canary?.weight).toBe(10);

    expect((await act('steer', 'resume')).status).toBe(200);
    expect(await listedStatus('steer', 'running')).toBe('running');
    await driveUntil('steer', (e) => e.canary?.weight === 50);
    const aborted = await act('steer', 'abort');
    expect(aborted.status).toBe(200);
    expect(((await aborted.json()) as { rollout: { status: string } }).rollout.status).toBe('aborted');
    const end = await show('steer');
    expect(end.rollout).toMatchObject({ status: 'aborted', step: 2 });
    expect(end.stable).toMatchObject({ version: v.stable });
    expect(end.canary).toBeNull();
    expect(end.events[0]).toMatchObject({ kind: 'abort', trafficWeight: 0 });
    expect((await act('steer', 'abort')).status).toBe(409);
    // Recorded anew under its own name: endpoint-controller-pause-resume-abort.json is a run from before pauses were written to the row.
    await recordHistory(`endpoint/${t.projectId}/steer`, 'endpoint-controller-pause-recorded.json');
  });

  it('promote now takes the candidate to 100 % at once', async () => {
    await deployStable('hurry');
    expect(
      (
        await rollout('hurry', {
          version: v.good,
          strategy: 'linear',
          steps: 4,
          bakeSeconds: 60,
          gates: { errorRate: 0.5 },
        })
      ).status,
    ).toBe(202);
    await driveUntil('hurry', (e) => e.canary?.weight === 25);
    const res = await act('hurry', 'promote');
    expect(res.status).toBe(200);
    const end = await show('hurry');
    expect(end.rollout).toMatchObject({ status: 'succeeded', step: 1 });
    expect(end.stable).toMatchObject({ version: v.good });
    expect(end.canary).toBeNull();
  });

  it('two rollouts sent at once: exactly one 202 and one 409 naming the running rollout', async () => {
    await deployStable('race');
    const canary = (version: number) => ({
      version,
      strategy: 'canary',
      steps: [
        { weight: 10, bakeSeconds: 30 },
        { weight: 100, bakeSeconds: 0 },
      ],
      gates: { errorRate: 0.5 },
    });
    const answers = await Promise.all([rollout('race', canary(v.good)), rollout('race', canary(v.other))]);
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([202, 409]);
    const accepted = (await answers.find((a) => a.status === 202)?.json()) as { rolloutId: string };
    const refused = (await answers.find((a) => a.status === 409)?.json()) as { error: { code: string; message: string; rolloutId: string } };
    expect(refused.error.code).toBe('rollout_in_progress');
    expect(refused.error.rolloutId).toBe(accepted.rolloutId);
    expect(refused.error.message).toContain(accepted.rolloutId);
    expect((await act('race', 'abort')).status).toBe(200);
  });

  it('rollback returns to the last good version; a second rollback has nothing to do', async () => {
    await deployStable('undo');
    const id = await idOf(await rollout('undo', { version: v.good, strategy: 'allAtOnce' }));
    await driveUntil('undo', (e) => e.stable?.version === v.good && ended(id)(e));

    const first = await t.request('POST', '/v1/endpoints/undo/rollback');
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ changed: true, stable: { version: v.stable } });
    const second = await t.request('POST', '/v1/endpoints/undo/rollback');
    expect(second.status).toBe(200);
    const secondBody = (await second.json()) as { changed: boolean; message: string };
    expect(secondBody).toMatchObject({ changed: false, stable: { version: v.stable } });
    expect(secondBody.message).toMatch(/Nothing to roll back/);
    const end = await show('undo');
    expect(end.stable).toMatchObject({ version: v.stable });
    expect(end.events.filter((e) => e.kind === 'rollback')).toHaveLength(1);
    await recordHistory(`endpoint/${t.projectId}/undo`, 'endpoint-controller-rollback.json');
    // What predict serves follows.
    const served = (await (await t.request('POST', '/v1/endpoints/undo/predict', { json: { records: [{ f0: 0, f1: 0 }] } })).json()) as { modelVersion: { version: number } };
    expect(served.modelVersion.version).toBe(v.stable);
  });

  it('shadow: a NaN candidate is judged on its shadow rows and removed; a good one shadows, then is promoted', async () => {
    await deployStable('mirror');
    const nanShadow = await idOf(await rollout('mirror', { version: v.nan, strategy: 'shadow', bakeSeconds: 2, gates: { errorRate: 0.05, minRequests: 20, gateIntervalSeconds: 1 } }));
    // Callers never see the shadow's failures: every answer comes from stable.
    const answered = await t.request('POST', '/v1/endpoints/mirror/predict', { json: { records: [{ f0: 0.1, f1: 0.2 }] } });
    expect(answered.status).toBe(200);
    const breached = await driveUntil('mirror', ended(nanShadow));
    expect(breached.rollout).toMatchObject({ status: 'rolled_back', breached: { gate: 'errorRate', passed: false } });
    expect(breached.shadow).toBeNull();
    expect(breached.stable).toMatchObject({ version: v.stable });

    const goodShadow = await idOf(await rollout('mirror', { version: v.good, strategy: 'shadow', bakeSeconds: 1, gates: { errorRate: 0.05, minRequests: 20, gateIntervalSeconds: 1 } }));
    const promoted = await driveUntil('mirror', ended(goodShadow));
    expect(promoted.rollout).toMatchObject({ status: 'succeeded', steps: 2 });
    expect(promoted.stable).toMatchObject({ version: v.good });
    expect(promoted.events.slice(0, 2).map((e) => e.kind)).toEqual(['promote', 'shadow']);
  });

  it('a rollout that must pass its simulation first fails with the report when the candidate disagrees with stable', async () => {
    await deployStable('twin');
    // Some recorded traffic for the replay.
    await driveUntil('twin', () => true);
    for (let i = 0; i < 20; i++) await t.request('POST', '/v1/endpoints/twin/predict', { json: { records: [{ f0: Math.random(), f1: Math.random() }] } });
    const contrarian = await registerOnnxVersion(t, 'churn', exportOnnx(goodClassifier(-20)));
    const res = await rollout('twin', {
      version: contrarian.version,
      strategy: 'canary',
      steps: [
        { weight: 10, bakeSeconds: 1 },
        { weight: 100, bakeSeconds: 0 },
      ],
      gates: { errorRate: 0.05 },
      simulate: { minAgreement: 0.9, requests: 50 },
    });
    const end = await driveUntil('twin', ended(await idOf(res)));
    expect(end.rollout).toMatchObject({ status: 'failed', failure: 'simulation_failed' });
    expect(end.rollout?.outcome).toMatch(/simulation failed for churn v\d+: The candidate agreed with stable .* on [\d.]+ % of replayed requests; at least 90.0 % is required/);
    expect(end.stable).toMatchObject({ version: v.stable });
    expect(end.canary).toBeNull();
    expect(end.events[0]).toMatchObject({ kind: 'simulation_failed' });
  });

  it('reads gates during the bake: a breach rolls back at once, long before a two-minute bake ends', async () => {
    await deployStable('midbake');
    const started = Date.now();
    const res = await rollout('midbake', {
      version: v.nan,
      strategy: 'canary',
      steps: [
        { weight: 50, bakeSeconds: 120 },
        { weight: 100, bakeSeconds: 0 },
      ],
      gates: { errorRate: 0.05, minRequests: 20, gateIntervalSeconds: 1 },
    });
    const end = await driveUntil('midbake', ended(await idOf(res)), 45_000);
    expect(Date.now() - started).toBeLessThan(45_000);
    expect(end.rollout).toMatchObject({ status: 'rolled_back', failure: 'gate_breached', step: 1, breached: { gate: 'errorRate', passed: false } });
    // Traffic is read from the row before the controller is asked: read it again now that the rollout has ended.
    const after = await show('midbake');
    expect(after.stable).toMatchObject({ version: v.stable });
    expect(after.canary).toBeNull();
  });

  it('a step short of candidate requests extends its bake, then rolls back as insufficient_traffic; nothing passed', async () => {
    await deployStable('quiet');
    const id = await idOf(
      await rollout('quiet', {
        version: v.good,
        strategy: 'canary',
        steps: [
          { weight: 10, bakeSeconds: 1 },
          { weight: 100, bakeSeconds: 0 },
        ],
        // minRequests is left at its default (50); nobody sends a request.
        gates: { errorRate: 0.05, gateIntervalSeconds: 1, maxBakeExtensionSeconds: 2 },
      }),
    );
    const end = await waitFor('quiet', ended(id));
    expect(end.rollout).toMatchObject({ status: 'rolled_back', failure: 'insufficient_traffic', step: 1 });
    expect(end.rollout?.outcome).toMatch(/insufficient traffic at step 1 of 2 after its 1 s bake and 2 s more: 0 candidate predictions, fewer than the 50 minRequests asks for/);
    expect(end.rollout?.gates).toEqual([expect.objectContaining({ gate: 'errorRate', value: null, passed: false })]);
    expect((await show('quiet')).stable).toMatchObject({ version: v.stable });
    expect((await show('quiet')).canary).toBeNull();
    expect(end.events[0]).toMatchObject({ kind: 'rollback', trafficWeight: 0 });
  });

  it('onInsufficientTraffic: "promote" goes on without enough data, and the outcome says so', async () => {
    await deployStable('bold');
    const id = await idOf(
      await rollout('bold', {
        version: v.good,
        strategy: 'canary',
        steps: [
          { weight: 10, bakeSeconds: 1 },
          { weight: 100, bakeSeconds: 0 },
        ],
        gates: { errorRate: 0.05, gateIntervalSeconds: 1, maxBakeExtensionSeconds: 1, onInsufficientTraffic: 'promote' },
      }),
    );
    const end = await waitFor('bold', ended(id));
    expect(end.rollout).toMatchObject({ status: 'succeeded' });
    expect(end.rollout?.outcome).toMatch(/went on without enough data at step 1 \(0 candidate predictions, fewer than the 50 minRequests asks for\) because the rollout says onInsufficientTraffic: promote/);
    expect((await show('bold')).stable).toMatchObject({ version: v.good });
  });

  it('a minAccuracy gate with no feedback labels is not a pass: the step is short of data', async () => {
    await deployStable('unlabelled');
    const id = await idOf(
      await rollout('unlabelled', {
        version: v.good,
        strategy: 'canary',
        steps: [
          { weight: 50, bakeSeconds: 1 },
          { weight: 100, bakeSeconds: 0 },
        ],
        gates: { minAccuracy: 0.5, minRequests: 5, gateIntervalSeconds: 1, maxBakeExtensionSeconds: 1 },
      }),
    );
    const end = await driveUntil('unlabelled', ended(id));
    expect(end.rollout).toMatchObject({ status: 'rolled_back', failure: 'insufficient_traffic' });
    expect(end.rollout?.outcome).toContain('no reading for minAccuracy (no feedback labels on candidate predictions)');
    expect((await show('unlabelled')).stable).toMatchObject({ version: v.stable });
  });

  it('a candidate a server cannot load rolls back naming the server and the error; servers report what they serve', async () => {
    await deployStable('broken');
    const unloadable = await registerOnnxVersion(t, 'churn', new TextEncoder().encode('not an onnx model'));
    const id = await idOf(
      await rollout('broken', {
        version: unloadable.version,
        strategy: 'canary',
        steps: [
          { weight: 20, bakeSeconds: 30 },
          { weight: 100, bakeSeconds: 0 },
        ],
        gates: { errorRate: 0.05 },
      }),
    );
    const end = await driveUntil('broken', ended(id), 30_000);
    expect(end.rollout).toMatchObject({ status: 'rolled_back', failure: 'candidate_load_failed', step: 1 });
    expect(end.rollout?.outcome).toContain(`churn v${unloadable.version} failed to load on server ${hostname()} (pid ${process.pid}`);
    expect(end.rollout?.outcome).toMatch(/for its canary route at step 1 of 2: .+; churn v\d+ rolled back/);
    expect((await show('broken')).stable).toMatchObject({ version: v.stable });
    expect((await show('broken')).canary).toBeNull();
    // This process says, per route, what it serves and what it could not load.
    const endpointId = (await t.database.db.select({ id: endpoints.id }).from(endpoints).where(and(eq(endpoints.projectId, t.projectId), eq(endpoints.name, 'broken'))))[0]?.id ?? '';
    const routes = async () => {
      const rows = await t.database.db.select().from(servedRoutes).where(eq(servedRoutes.endpointId, endpointId));
      return Object.fromEntries(rows.map((r) => [r.route, { host: r.host, pid: r.pid, serves: r.versionId, wanted: r.wantedVersionId, loadError: r.loadError }]));
    };
    // After the rollback (once this process reloads) the canary route is empty again and nothing fails to load.
    await expect.poll(routes, { timeout: 10_000 }).toMatchObject({
      stable: { host: hostname(), pid: process.pid, loadError: null },
      canary: { serves: null, wanted: null, loadError: null },
      shadow: { serves: null, wanted: null },
    });
    expect((await routes()).stable?.serves).not.toBe(unloadable.versionId);
  });

  it('refuses what it cannot do with a code and a sentence', async () => {
    const codeOf = async (res: Response) => ({ status: res.status, ...((await res.json()) as { error: { code: string; field?: string } }).error });
    // A canary with nothing stable to compare with.
    expect(await codeOf(await rollout('fresh', { version: v.good, strategy: 'canary', steps: [{ weight: 100, bakeSeconds: 0 }], gates: { errorRate: 0.1 } }))).toMatchObject({
      status: 422,
      code: 'no_stable_version',
    });
    await deployStable('rules');
    expect(await codeOf(await rollout('rules', { version: v.good, strategy: 'canary', steps: [{ weight: 10, bakeSeconds: 1 }, { weight: 100, bakeSeconds: 0 }] }))).toMatchObject({
      status: 422,
      code: 'rollout_gates_required',
    });
    expect(await codeOf(await rollout('rules', { version: v.good, strategy: 'canary', steps: [{ weight: 50, bakeSeconds: 1 }, { weight: 40, bakeSeconds: 0 }], gates: { errorRate: 0.1 } }))).toMatchObject({
      status: 422,
      code: 'invalid_rollout_strategy',
    });
    expect(await codeOf(await rollout('rules', { version: v.good, strategy: 'canary', steps: [{ weight: 50, bakeSeconds: 1 }, { weight: 100, bakeSeconds: 0 }], gates: { errorRate: 0.1, gateIntervalSeconds: 0 } }))).toMatchObject({
      status: 422,
      field: 'gates.gateIntervalSeconds',
    });
    expect(await codeOf(await rollout('rules', { version: 99, strategy: 'allAtOnce' }))).toMatchObject({ status: 404, code: 'model_version_not_found' });
    expect(await codeOf(await rollout('rules', { alias: 'staging', strategy: 'allAtOnce' }))).toMatchObject({ status: 404, code: 'alias_not_set' });
    expect(await codeOf(await rollout('rules', { version: v.good, strategy: 'sideways' }))).toMatchObject({ status: 422, field: 'strategy' });
    expect(await codeOf(await rollout('rules', { version: v.good, strategy: 'linear', steps: 3 }))).toMatchObject({ status: 422, field: 'bakeSeconds' });
    expect(await codeOf(await act('rules', 'resume'))).toMatchObject({ status: 409, code: 'no_rollout_running' });
    expect(await codeOf(await act('rules', 'jump'))).toMatchObject({ status: 404, code: 'unknown_rollout_action' });
    const viewer = await t.createKey('viewer');
    expect((await t.request('POST', '/v1/endpoints/rules/rollouts', { json: { model: 'churn', version: v.good, strategy: 'allAtOnce' }, key: viewer })).status).toBe(403);
    expect((await t.request('GET', '/v1/endpoints/rules', { key: viewer })).status).toBe(200);
    const list = (await (await t.request('GET', '/v1/endpoints', { key: viewer })).json()) as { endpoints: { name: string; stable: VersionView | null }[] };
    expect(list.endpoints.find((e) => e.name === 'rules')?.stable).toMatchObject({ model: 'churn', version: v.stable });
  });
});
