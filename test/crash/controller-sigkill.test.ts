import { and, eq, like } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { endpointEvents, endpoints } from '../../db/schema';
import { exportOnnx } from '../../ml/onnx-export';
import { killableWorkers } from '../support/killable-workers';
import { goodClassifier } from '../support/onnx-graphs';
import { registerOnnxVersion } from '../support/register-version';
import { startTestFactory, type TestFactory } from '../support/test-factory';

/** The controller's worker is SIGKILLed mid-rollout (no graceful shutdown); another worker process takes over the same rollout. */
describe.skipIf(!inject('databaseUrl'))('a rollout survives a SIGKILLed worker (PostgreSQL: a child process cannot share in-memory PGlite)', () => {
  let t: TestFactory;
  const workers = killableWorkers(() => t, 'cpu');

  beforeAll(async () => {
    // The API runs here; the factory-cpu worker (workflows and activities) only in child processes the test kills.
    t = await startTestFactory({ parts: { api: true } });
  });
  afterAll(async () => {
    await workers.killAll();
    await t?.stop();
  });

  const startWorkerProcess = () => workers.start();

  /** The endpoint row as inference servers read it (no query to the controller: it may have no worker right now). */
  const row = async (name: string) => (await t.database.db.select().from(endpoints).where(and(eq(endpoints.projectId, t.projectId), eq(endpoints.name, name))))[0];

  /** Predict traffic, as a client would send it, until the endpoint row satisfies `done`. */
  async function driveUntil(name: string, done: (r: Awaited<ReturnType<typeof row>>) => boolean, timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; ; i++) {
      await t.request('POST', `/v1/endpoints/${name}/predict`, { json: { records: [{ f0: Math.random(), f1: Math.random() }] } });
      if (i % 5 === 0 && done(await row(name))) return;
      if (Date.now() > deadline) throw new Error(`endpoint ${name} never got there: ${JSON.stringify(await row(name))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it('resumes at the same step and applies no step twice', async () => {
    const stable = await registerOnnxVersion(t, 'churn', exportOnnx(goodClassifier(0.1)));
    const candidate = await registerOnnxVersion(t, 'churn', exportOnnx(goodClassifier(0.3)));
    const doomed = await startWorkerProcess();

    expect((await t.request('POST', '/v1/endpoints/crash/rollouts', { json: { model: 'churn', version: stable.version, strategy: 'allAtOnce' } })).status).toBe(202);
    // Until the first rollout has ended (it checks every server serves it), or the canary would be a 409 rollout_in_progress.
    await driveUntil('crash', (r) => r?.stableVersionId === stable.versionId && r.rollout?.status === 'succeeded');
    const start = await t.request('POST', '/v1/endpoints/crash/rollouts', {
      json: {
        model: 'churn',
        version: candidate.version,
        strategy: 'canary',
        steps: [
          { weight: 20, bakeSeconds: 4 },
          { weight: 60, bakeSeconds: 2 },
          { weight: 100, bakeSeconds: 0 },
        ],
        gates: { errorRate: 0.5, minRequests: 5, gateIntervalSeconds: 1 },
      },
    });
    expect(start.status).toBe(202);
    const { rolloutId } = (await start.json()) as { rolloutId: string };

    // Mid-bake of the first step: the worker dies with the timer pending.
    await driveUntil('crash', (r) => r?.canaryWeight === 20);
    doomed.child.kill('SIGKILL');
    const killedAt = Date.now();
    await doomed.exited();
    const atKill = await row('crash');
    expect(atKill).toMatchObject({ canaryVersionId: candidate.versionId, canaryWeight: 20, rollout: { rolloutId, step: 0, status: 'running' } });

    await startWorkerProcess();
    await driveUntil('crash', (r) => r?.stableVersionId === candidate.versionId && r.rollout?.status === 'succeeded');

    const events = await t.database.db
      .select()
      .from(endpointEvents)
      .where(and(eq(endpointEvents.endpointId, atKill?.id ?? ''), like(endpointEvents.idempotencyKey, `%:${rolloutId}:%`)))
      .orderBy(endpointEvents.createdAt);
    // Each step exactly once, in order: the one in progress at the kill was not applied again.
    expect(events.map((e) => [e.kind, e.trafficWeight])).toEqual([
      ['canary', 20],
      ['canary', 60],
      ['promote', 100],
    ]);
    const resumedAfterMs = (events[1]?.createdAt.getTime() ?? NaN) - killedAt;
    console.log(`[crash] controller worker SIGKILL mid-bake of step 1 of 3: steps applied once each; SIGKILL → step 2 applied by the new worker: ${resumedAfterMs} ms (step bake 4 s)`);
    const view = (await (await t.request('GET', '/v1/endpoints/crash')).json()) as { rollout: { status: string; step: number; gates: { gate: string; passed: boolean }[] } };
    expect(view.rollout).toMatchObject({ status: 'succeeded', step: 3 });
    expect(view.rollout.gates).toEqual([expect.objectContaining({ gate: 'errorRate', passed: true })]);
  });
});
