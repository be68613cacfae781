import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { createRolloutGateActivities } from '../../activities/rollout-gates';
import { ArtifactStore } from '../../artifacts/store';
import { openDatabase, type DatabaseHandle } from '../../db/client';
import { predictions } from '../../db/schema';
import { bootstrapProject } from '../../db/queries/projects';
import type { EvaluateRolloutGatesInput, SimulateRolloutInput } from '../../domain/rollout-evaluation';
import type { TrafficRoute } from '../../domain/rollout';
import { newId } from '../../platform/ids';
import { UserError } from '../../platform/user-error';
import { CANDIDATE_FEATURES, failingClassifier, insertEndpoint, insertModelVersion, registerCandidate, shiftedClassifier, slowClassifier, type CandidateHome } from '../support/candidate-models';
import { goodOnnx } from '../support/onnx-graphs';
import { exportOnnx } from '../../ml/onnx-export';
import type { TrainedRegressor } from '../../ml/trained-model';

const T0 = new Date('2026-02-01T12:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
/** Ordinary records of the two features, spread over [-2, 2]: goodClassifier answers both classes on them. */
const record = (i: number) => ({ f0: ((i * 37) % 41) / 10 - 2, f1: ((i * 17) % 23) / 5.5 - 2 });

async function userError(promise: Promise<unknown>): Promise<UserError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof UserError) return err;
    throw err;
  }
  throw new Error('expected a UserError');
}

describe('rollout gate activities', () => {
  let database: DatabaseHandle;
  let artifactRoot: string;
  let home: CandidateHome;
  let activities: ReturnType<typeof createRolloutGateActivities>;
  // Failures the tests expect would otherwise be logged as warnings.
  const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
  const inActivity = <R>(fn: () => Promise<R>): Promise<R> => env.run<[], R, () => Promise<R>>(fn);
  const evaluate = (input: EvaluateRolloutGatesInput) => inActivity(() => activities.evaluateRolloutGates(input));
  const simulate = (input: SimulateRolloutInput) => inActivity(() => activities.simulateRollout(input));

  beforeAll(async () => {
    const url = inject('databaseUrl');
    database = await openDatabase(url ? { url } : { inMemory: true });
    if (!url) await database.migrate();
    const { projectId } = await bootstrapProject(database.db, { projectName: `gates-${randomUUID().slice(0, 8)}` });
    artifactRoot = await mkdtemp(path.join(os.tmpdir(), 'ai-factory-gates-'));
    const artifacts = new ArtifactStore(artifactRoot);
    home = { projectId, database, factory: { artifacts } };
    activities = createRolloutGateActivities({ db: database.db, artifacts });
  });
  afterAll(async () => {
    await database?.close();
    if (artifactRoot) await rm(artifactRoot, { recursive: true, force: true });
  });

  async function log(rows: { endpointId: string; versionId: string; route: TrafficRoute; second: number; latencyMs: number; label?: string; error?: string; inputs?: Record<string, number> }[]) {
    await database.db.insert(predictions).values(
      rows.map((r) => ({
        id: newId('pred'),
        endpointId: r.endpointId,
        modelVersionId: r.versionId,
        route: r.route,
        inputs: r.inputs ?? record(0),
        outputs: r.error ? null : { label: r.label ?? 'yes', probability: r.label === 'no' ? 0.2 : 0.8, probabilities: { no: r.label === 'no' ? 0.8 : 0.2, yes: r.label === 'no' ? 0.2 : 0.8 } },
        error: r.error ?? null,
        latencyMs: r.latencyMs,
        createdAt: at(r.second),
      })),
    );
  }

  describe('evaluateRolloutGates', () => {
    let endpointId: string;
    let stable: string;
    let good: string;
    let erroring: string;
    let gateInput: (candidateVersionId: string, gates: EvaluateRolloutGatesInput['gates']) => EvaluateRolloutGatesInput;

    beforeAll(async () => {
      const spec = { model: 'gated', features: CANDIDATE_FEATURES };
      stable = (await insertModelVersion(database.db, { projectId: home.projectId, ...spec })).modelVersionId;
      good = (await insertModelVersion(database.db, { projectId: home.projectId, ...spec })).modelVersionId;
      erroring = (await insertModelVersion(database.db, { projectId: home.projectId, ...spec })).modelVersionId;
      endpointId = await insertEndpoint(database.db, { projectId: home.projectId, name: 'gated', stableVersionId: stable });
      const half = (n: number) => (n % 2 === 0 ? 'yes' : 'no');
      await log([
        // Stable: 90 rows, half "yes"; the good canary: 10 rows alike, 2-6 ms; the erroring canary: 3 of 10 fail.
        ...Array.from({ length: 90 }, (_, i) => ({ endpointId, versionId: stable, route: 'stable' as const, second: i, latencyMs: 2, label: half(i) })),
        ...Array.from({ length: 10 }, (_, i) => ({ endpointId, versionId: good, route: 'canary' as const, second: i * 10, latencyMs: 2 + (i % 5), label: half(i) })),
        ...Array.from({ length: 10 }, (_, i) => ({ endpointId, versionId: erroring, route: 'canary' as const, second: i * 10, latencyMs: 3, label: half(i), ...(i < 3 && { error: 'non-finite output' }) })),
      ]);
      gateInput = (candidateVersionId, gates) => ({
        projectId: home.projectId,
        endpointId,
        candidateVersionId,
        stableVersionId: stable,
        route: 'canary',
        from: at(0).toISOString(),
        to: at(300).toISOString(),
        gates,
      });
    });

    it('passes a candidate that behaves like stable on every gate it can read; unlabelled accuracy has not passed', async () => {
      // Ten canary rows: judged because this window asks for ten (the default is 50).
      const result = await evaluate(gateInput(good, { errorRate: 0.01, p99LatencyMs: 50, predictionShiftPsi: 0.2, minAccuracy: 0.9, minRequests: 10 }));
      expect(result.window).toEqual({ candidate: 10, stable: 90 });
      expect(result.breached).toBeNull();
      expect(result.readings.map((r) => [r.gate, r.passed])).toEqual([
        ['errorRate', true],
        ['p99LatencyMs', true],
        ['predictionShiftPsi', true],
        ['minAccuracy', false],
      ]);
      expect(result.insufficient).toBe('no reading for minAccuracy (no feedback labels on candidate predictions)');
      expect(result.readings[0]).toMatchObject({ value: 0, samples: 10 });
      // Latencies 2 … 6 twice: percentile_cont(0.99) at position 8.91 of the sorted ten is 6.
      expect(result.readings[1]?.value).toBeCloseTo(6, 6);
      // Labels 50/50 against stable's 45/45 and the same probabilities: no shift.
      expect(result.readings[2]?.value).toBeCloseTo(0, 6);
      // No feedback labels yet: nothing to read, so the gate has not passed (the rollout waits for labels or rolls back).
      expect(result.readings[3]).toMatchObject({ value: null, samples: 0, passed: false });
      // With the default minRequests, ten rows judge nothing.
      expect(await evaluate(gateInput(good, { errorRate: 0.01 }))).toMatchObject({ belowMinRequests: true, breached: null, readings: [{ gate: 'errorRate', passed: false }] });
    });

    it('names the error-rate gate when three of ten canary predictions failed', async () => {
      const result = await evaluate(gateInput(erroring, { errorRate: 0.05, p99LatencyMs: 50, minRequests: 10 }));
      expect(result.breached).toEqual({ gate: 'errorRate', threshold: 0.05, value: 0.3, samples: 10, passed: false });
      expect(result.summary).toBe('Gate errorRate breached: 0.3 is over the limit of 0.05 (10 samples).');
      const patient = await evaluate(gateInput(erroring, { errorRate: 0.05, minRequests: 11 }));
      expect(patient).toMatchObject({ breached: null, belowMinRequests: true });
    });

    it('refuses an endpoint of another project and a window that ends before it starts', async () => {
      const other = await userError(evaluate({ ...gateInput(good, { errorRate: 0.1 }), projectId: 'prj_other' }));
      expect(other).toMatchObject({ code: 'endpoint_not_found', status: 404 });
      const backwards = await userError(evaluate({ ...gateInput(good, { errorRate: 0.1 }), to: at(-1).toISOString() }));
      expect(backwards).toMatchObject({ code: 'invalid_window', status: 422 });
    });
  });

  describe('simulateRollout', () => {
    const REQUESTS = 200;
    let endpointId: string;
    let emptyEndpointId: string;
    let stable: string;
    let input: (candidateVersionId: string, more?: Partial<SimulateRolloutInput>) => SimulateRolloutInput;

    beforeAll(async () => {
      const spec = { model: 'twin', features: CANDIDATE_FEATURES };
      stable = (await registerCandidate(home, goodOnnx(), spec)).modelVersionId;
      endpointId = await insertEndpoint(database.db, { projectId: home.projectId, name: 'twin', stableVersionId: stable });
      emptyEndpointId = await insertEndpoint(database.db, { projectId: home.projectId, name: 'twin-unused', stableVersionId: stable });
      await log(
        Array.from({ length: REQUESTS + 50 }, (_, i) => ({
          endpointId,
          versionId: stable,
          route: 'stable' as const,
          second: i,
          latencyMs: 1,
          inputs: record(i),
          // Failed requests are not replayed.
          ...(i % 25 === 0 && { error: 'timeout' }),
        })),
      );
      input = (candidateVersionId, more = {}) => ({ projectId: home.projectId, endpointId, stableVersionId: stable, candidateVersionId, requests: REQUESTS, ...more });
    });

    it('passes a candidate with the same weights: full agreement, no shift', async () => {
      const same = await registerCandidate(home, goodOnnx(), { model: 'twin', features: CANDIDATE_FEATURES });
      const report = await simulate(input(same.modelVersionId));
      expect(report).toMatchObject({ requests: REQUESTS, candidateErrors: 0, agreement: 1, passed: true, failures: [] });
      expect(report.outputShiftPsi).toBeCloseTo(0, 9);
      expect(report.candidateLatencyMs.samples).toBe(100);
      expect(report.stableLatencyMs.p99).not.toBeNull();
    });

    it('fails a shifted candidate on agreement and output shift', async () => {
      const shifted = await registerCandidate(home, shiftedClassifier(), { model: 'twin', features: CANDIDATE_FEATURES });
      const report = await simulate(input(shifted.modelVersionId));
      console.log(`shifted candidate: agreement ${report.agreement}, PSI ${report.outputShiftPsi}`);
      expect(report.passed).toBe(false);
      expect(report.failures.map((f) => f.check)).toEqual(['agreement', 'outputShiftPsi']);
      expect(report.agreement).toBeLessThan(0.9);
      expect(report.outputShiftPsi).toBeGreaterThan(0.2);
    });

    it('fails a candidate answering NaN on every replayed request', async () => {
      const failing = await registerCandidate(home, failingClassifier(), { model: 'twin', features: CANDIDATE_FEATURES });
      const report = await simulate(input(failing.modelVersionId));
      expect(report).toMatchObject({ requests: REQUESTS, candidateErrors: REQUESTS, agreement: 0, outputShiftPsi: null, passed: false });
      expect(report.failures.map((f) => f.check)).toEqual(['candidateErrors', 'agreement']);
    });

    it('fails a slow candidate on the p99 it was given, and a twin with nothing to replay', async () => {
      const slow = await registerCandidate(home, slowClassifier(), { model: 'twin', features: CANDIDATE_FEATURES });
      const report = await simulate(input(slow.modelVersionId, { requests: 10, thresholds: { maxP99LatencyMs: 30 } }));
      console.log(`slow candidate: p99 ${report.candidateLatencyMs.p99?.toFixed(1)} ms, stable p99 ${report.stableLatencyMs.p99?.toFixed(2)} ms`);
      expect(report).toMatchObject({ requests: 10, agreement: 1, passed: false });
      expect(report.failures).toEqual([expect.objectContaining({ check: 'p99LatencyMs', threshold: 30 })]);

      const nothing = await simulate({ ...input(stable), endpointId: emptyEndpointId });
      expect(nothing).toMatchObject({ requests: 0, agreement: null, passed: false, failures: [expect.objectContaining({ check: 'requests' })] });
    });

    it('compares regressors within 5 % and on stable deciles', async () => {
      const regressor = (targetMean: number): TrainedRegressor => ({
        format: 'ai-factory.dense.v2',
        family: 'linear',
        features: CANDIDATE_FEATURES,
        standardisation: { mean: [0, 0], std: [1, 1] },
        layers: [{ inputSize: 2, units: 1, kernel: [1, 2], bias: [0], activation: 'linear' }],
        task: 'regression',
        target: { mean: targetMean, std: 3 },
      });
      const spec = { model: 'price-twin', features: CANDIDATE_FEATURES, outputSchema: { name: 'value' as const, task: 'regression' as const, target: 'price' } };
      const regStable = (await registerCandidate(home, exportOnnx(regressor(10)), spec)).modelVersionId;
      const close = (await registerCandidate(home, exportOnnx(regressor(10.1)), spec)).modelVersionId;
      const far = (await registerCandidate(home, exportOnnx(regressor(25)), spec)).modelVersionId;
      const regEndpoint = await insertEndpoint(database.db, { projectId: home.projectId, name: 'price-twin', stableVersionId: regStable });
      await log(Array.from({ length: 100 }, (_, i) => ({ endpointId: regEndpoint, versionId: regStable, route: 'stable' as const, second: i, latencyMs: 1, inputs: record(i) })));
      const base = { projectId: home.projectId, endpointId: regEndpoint, stableVersionId: regStable, requests: 100 };

      // Values 3·(f0 + 2·f1) + 10 spread over about [-8, 28]: a shift of 0.1 is within 5 % of stable's spread everywhere.
      const near = await simulate({ ...base, candidateVersionId: close });
      expect(near).toMatchObject({ requests: 100, agreement: 1, passed: true });
      expect(near.outputShiftPsi).toBeLessThan(0.2);
      const moved = await simulate({ ...base, candidateVersionId: far });
      expect(moved.passed).toBe(false);
      expect(moved.failures.map((f) => f.check)).toEqual(['agreement', 'outputShiftPsi']);
    });
  });
});
