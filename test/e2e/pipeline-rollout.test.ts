import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpointControllerWorkflowId } from '../../workflows/contracts';
import { recordHistory } from '../support/record-history';
import { churnRows, toCsv } from '../support/synthetic-data';
import { startTestFactory, type TestFactory, type WorkflowStatusBody } from '../support/test-factory';

interface RolloutResult {
  strategy: string;
  requested: string;
  note: string | null;
  status: string;
  steps: number;
  gates: { gate: string; threshold: number; value: number | null; samples: number; passed: boolean }[];
  breached: { gate: string } | null;
  outcome: string | null;
}
interface PipelineEnd {
  stage: string;
  rejection?: string;
  modelVersion: { version: number };
  rollout?: RolloutResult;
}
interface EndpointView {
  stable: { version: number } | null;
  canary: { version: number; weight: number } | null;
  events: { kind: string; trafficWeight: number; reason: string; toVersion: { version: number } | null }[];
}

/** A pipeline's deploy as a canary: handed to the endpoint's controller with its gates, and the pipeline ends with the rollout. */
describe('pipeline rollout: a retrained model is canaried like any other', () => {
  let t: TestFactory;

  beforeAll(async () => {
    t = await startTestFactory({ activityTimeouts: { heartbeatTimeoutMs: 3000 } });
    expect((await t.request('POST', '/v1/datasets/churn/versions?wait=true', { body: toCsv(churnRows(400)), contentType: 'text/csv' })).status).toBe(201);
  });
  afterAll(async () => {
    await t?.stop();
  });

  // Later versions retrain with the first one's seed: the same model again, so the default policy (no worse than the champion) blesses it.
  const start = async (rollout: Record<string, unknown>, seed: number) => {
    const res = await t.request('POST', '/v1/pipelines', {
      json: { dataset: 'churn', target: 'churned', model: { type: 'logistic', learningRate: 0.1, epochs: 5, seed }, endpoint: 'churn', rollout },
    });
    expect(res.status).toBe(202);
    return ((await res.json()) as { workflowId: string }).workflowId;
  };
  const show = async (): Promise<EndpointView> => (await (await t.request('GET', '/v1/endpoints/churn')).json()) as EndpointView;

  /** Sends predictions while the pipeline runs (its canary's gates read them), noting each stage it reports; returns its end. */
  async function driveUntilEnded(workflowId: string, stages: Set<string>): Promise<WorkflowStatusBody> {
    const deadline = Date.now() + 110_000;
    for (let i = 0; ; i++) {
      if (i % 10 === 0) {
        const body = (await (await t.request('GET', `/v1/workflows/${encodeURIComponent(workflowId)}`)).json()) as WorkflowStatusBody;
        if (body.progress) stages.add(body.progress.stage);
        if (body.status !== 'RUNNING') return body;
        if (Date.now() > deadline) throw new Error(`pipeline ${workflowId} still running: ${JSON.stringify(body.progress)}`);
      }
      // Before the first deploy the endpoint does not exist yet: those predictions answer 404 and count for nothing.
      await t.request('POST', '/v1/endpoints/churn/predict', { json: { records: [{ tenure: Math.round(Math.random() * 60), spend: Math.random() * 200, noise: 0 }] } });
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  const canary = (gates: Record<string, number>) => ({
    strategy: 'canary',
    steps: [
      { weight: 30, bakeSeconds: 2 },
      { weight: 100, bakeSeconds: 0 },
    ],
    // Two seconds at 30 % see a few dozen candidate requests: judged on ten, read every second.
    gates: { minRequests: 10, gateIntervalSeconds: 1, ...gates },
  });

  it('refuses a canary without gates, and a malformed one, before anything runs', async () => {
    const codeOf = async (res: Response) => ({ status: res.status, ...((await res.json()) as { error: { code: string; field?: string; message: string } }).error });
    const body = (rollout: unknown) => ({ dataset: 'churn', target: 'churned', model: { type: 'logistic' }, endpoint: 'churn', rollout });
    const noGates = await codeOf(await t.request('POST', '/v1/pipelines', { json: body({ strategy: 'canary', steps: [{ weight: 10, bakeSeconds: 1 }, { weight: 100, bakeSeconds: 0 }] }) }));
    expect(noGates).toMatchObject({ status: 422, code: 'rollout_gates_required', field: 'gates' });
    expect(noGates.message).toMatch(/needs at least one gate/);
    expect(await codeOf(await t.request('POST', '/v1/pipelines', { json: body({ strategy: 'canary', gates: { errorRate: 0.1 } }) }))).toMatchObject({ status: 422, field: 'rollout.steps' });
    expect(
      await codeOf(await t.request('POST', '/v1/pipelines', { json: body({ strategy: 'canary', steps: [{ weight: 50, bakeSeconds: 1 }, { weight: 40, bakeSeconds: 0 }], gates: { errorRate: 0.1 } }) })),
    ).toMatchObject({ status: 422, code: 'invalid_rollout_strategy' });
    expect(await codeOf(await t.request('POST', '/v1/pipelines', { json: body({ strategy: 'canary', gates: { errorRate: 2 } }) }))).toMatchObject({ status: 422 });
    // Nothing started: the endpoint was never created.
    expect((await t.request('GET', '/v1/endpoints/churn')).status).toBe(404);
  });

  it('first version: a canary has nothing to compare with, so it goes out allAtOnce and says so', async () => {
    const workflowId = await start(canary({ errorRate: 0.05 }), 1);
    const end = await driveUntilEnded(workflowId, new Set());
    expect(end.status).toBe('COMPLETED');
    const result = end.result as unknown as PipelineEnd;
    expect(result).toMatchObject({ stage: 'done', modelVersion: { version: 1 }, rollout: { strategy: 'allAtOnce', requested: 'canary', status: 'succeeded', steps: 1 } });
    expect(result.rollout?.note).toMatch(/had no stable version to compare a canary candidate with, so churn v1 went out allAtOnce/);
    expect((await show()).stable).toMatchObject({ version: 1 });
  });

  it('second version: canaried at 30 % under traffic, gates read, promoted; the pipeline ends done with the rollout', async () => {
    const workflowId = await start(canary({ errorRate: 0.05, p99LatencyMs: 5000 }), 1);
    const stages = new Set<string>();
    const end = await driveUntilEnded(workflowId, stages);
    expect(end.status).toBe('COMPLETED');
    expect(stages).toContain('rollout');
    const result = end.result as unknown as PipelineEnd;
    expect(result).toMatchObject({ stage: 'done', modelVersion: { version: 2 }, rollout: { strategy: 'canary', requested: 'canary', note: null, status: 'succeeded', steps: 2, breached: null } });
    const errorRate = result.rollout?.gates.find((g) => g.gate === 'errorRate');
    expect(errorRate).toMatchObject({ passed: true, value: 0 });
    expect(errorRate?.samples).toBeGreaterThan(0);
    expect(result.rollout?.outcome).toMatch(/churn v2 is stable at 100 %/);

    const endpoint = await show();
    expect(endpoint.stable).toMatchObject({ version: 2 });
    expect(endpoint.canary).toBeNull();
    // Newest first: the canary step at 30 %, then the promotion to 100 %.
    const steps = endpoint.events.filter((e) => e.toVersion?.version === 2).map((e) => [e.kind, e.trafficWeight]);
    expect(steps).toEqual([
      ['promote', 100],
      ['canary', 30],
    ]);
    await recordHistory(workflowId, 'factory-pipeline-canary-rollout.json');
  });

  it('a breached gate rolls the canary back, and the pipeline ends rejected naming the gate and its numbers', async () => {
    // No model answers within a microsecond: the p99 latency gate is certain to breach at the first step.
    const workflowId = await start(canary({ errorRate: 0.05, p99LatencyMs: 0.001 }), 1);
    const end = await driveUntilEnded(workflowId, new Set());
    expect(end.status).toBe('COMPLETED');
    const result = end.result as unknown as PipelineEnd;
    expect(result).toMatchObject({ stage: 'rejected', modelVersion: { version: 3 }, rollout: { strategy: 'canary', status: 'rolled_back', breached: { gate: 'p99LatencyMs' } } });
    expect(result.rejection).toMatch(/^canary rollout rolled back: gate p99LatencyMs breached at step 1 of 2: p99LatencyMs [\d.]+ > 0\.001 over \d+ predictions; churn v3 rolled back/);
    const endpoint = await show();
    expect(endpoint.stable).toMatchObject({ version: 2 });
    expect(endpoint.canary).toBeNull();
    expect(endpoint.events[0]).toMatchObject({ kind: 'rollback', toVersion: { version: 2 } });
    await recordHistory(workflowId, 'factory-pipeline-canary-rolled-back.json');
    // The controller, with the first-version fallback and the rolloutOutcome Updates the pipelines waited on.
    await recordHistory(endpointControllerWorkflowId(t.projectId, 'churn'), 'endpoint-controller-pipeline-rollouts.json');
  });

  it('with a promotion stage, a rolled-back canary also moves production back to the version it was taken from', async () => {
    const production = async () => {
      const body = (await (await t.request('GET', '/v1/models/churn/versions')).json()) as { versions: { version: number; aliases: string[] }[] };
      return body.versions.find((v) => v.aliases.includes('production'))?.version;
    };
    const before = await production();
    expect(before).toBe(2);
    const res = await t.request('POST', '/v1/pipelines', {
      json: {
        dataset: 'churn',
        target: 'churned',
        model: { type: 'logistic', learningRate: 0.1, epochs: 5, seed: 1 },
        endpoint: 'churn',
        promotion: { thresholds: [], requireApproval: false },
        rollout: canary({ errorRate: 0.05, p99LatencyMs: 0.001 }),
      },
    });
    expect(res.status).toBe(202);
    const { workflowId } = (await res.json()) as { workflowId: string };
    const end = await driveUntilEnded(workflowId, new Set());
    const result = end.result as unknown as PipelineEnd & { promotion: { promoted: boolean; fromVersionId: string } };
    expect(result).toMatchObject({ stage: 'rejected', modelVersion: { version: 4 }, promotion: { promoted: true }, rollout: { status: 'rolled_back' } });
    expect(await production()).toBe(2);
    const history = (await (await t.request('GET', '/v1/models/churn/aliases/production/history')).json()) as { history: { reason: string; to: { version: number } }[] };
    expect(history.history[0]).toMatchObject({ to: { version: 2 } });
    expect(history.history[0]?.reason).toMatch(/v4 was rolled back by its canary/);
  });
});
