import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../db/client';
import { feedbackLabels, predictions } from '../../db/schema';
import { bootstrapProject } from '../../db/queries/projects';
import { readPredictionWindow } from '../../db/queries/prediction-window';
import type { TrafficRoute } from '../../domain/rollout';
import { newId } from '../../platform/ids';
import { insertEndpoint, insertModelVersion } from '../support/candidate-models';

const T0 = new Date('2026-01-01T10:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const WINDOW = { from: at(0), to: at(600) };

interface Row {
  version: string;
  endpoint?: string;
  route?: TrafficRoute;
  second?: number;
  latencyMs?: number;
  outputs?: Record<string, unknown> | null;
  error?: string;
  label?: string | number;
}

describe('readPredictionWindow', () => {
  let database: DatabaseHandle;
  let projectId: string;
  let endpointId: string;
  let otherEndpointId: string;
  const versions: Record<'stable' | 'canary' | 'multi' | 'numeric' | 'regStable' | 'regCanary', string> = {} as never;

  async function insertRows(rows: Row[]): Promise<void> {
    const values = rows.map((r) => ({
      id: newId('pred'),
      endpointId: r.endpoint ?? endpointId,
      modelVersionId: r.version,
      inputs: { f0: 1, f1: 2 },
      outputs: r.error ? null : (r.outputs ?? null),
      latencyMs: r.latencyMs ?? 1,
      error: r.error ?? null,
      route: r.route ?? 'stable',
      createdAt: at(r.second ?? 10),
    }));
    await database.db.insert(predictions).values(values);
    const labelled = rows.flatMap((r, i) => (r.label === undefined ? [] : [{ predictionId: values[i]!.id, label: r.label }]));
    if (labelled.length > 0) await database.db.insert(feedbackLabels).values(labelled);
  }

  beforeAll(async () => {
    const url = inject('databaseUrl');
    database = await openDatabase(url ? { url } : { inMemory: true });
    if (!url) await database.migrate();
    ({ projectId } = await bootstrapProject(database.db, { projectName: `window-${randomUUID().slice(0, 8)}` }));
    const features = ['f0', 'f1'];
    const db = database.db;
    versions.stable = (await insertModelVersion(db, { projectId, model: 'churn', features })).modelVersionId;
    versions.canary = (await insertModelVersion(db, { projectId, model: 'churn', features })).modelVersionId;
    versions.multi = (await insertModelVersion(db, { projectId, model: 'iris', features, outputSchema: { name: 'probabilities', task: 'classification', classes: ['a', 'b', 'c'], labelType: 'string' } }))
      .modelVersionId;
    versions.numeric = (await insertModelVersion(db, { projectId, model: 'digits', features, outputSchema: { name: 'probabilities', task: 'classification', classes: ['0', '1'], labelType: 'number' } }))
      .modelVersionId;
    const regression = { name: 'value' as const, task: 'regression' as const, target: 'price' };
    versions.regStable = (await insertModelVersion(db, { projectId, model: 'price', features, outputSchema: regression })).modelVersionId;
    versions.regCanary = (await insertModelVersion(db, { projectId, model: 'price', features, outputSchema: regression })).modelVersionId;
    endpointId = await insertEndpoint(db, { projectId, name: 'churn', stableVersionId: versions.stable });
    otherEndpointId = await insertEndpoint(db, { projectId, name: 'other', stableVersionId: versions.stable });
  });
  afterAll(async () => {
    await database?.close();
  });

  it('counts, errors, p99 latency, labels, probability bins and accuracy of one route in [from, to)', async () => {
    const yes = (p: number) => ({ label: 'yes', probability: p, probabilities: { no: 1 - p, yes: p } });
    const canary = versions.canary;
    await insertRows([
      // Ten canary rows in the window, latencies 1 … 10 ms: two errors, six "yes", two "no"; P(yes) bins 9, 9, 8, 6, 5, 9, 0, 3.
      { version: canary, route: 'canary', latencyMs: 1, outputs: yes(0.95), label: 'yes' },
      { version: canary, route: 'canary', latencyMs: 2, outputs: yes(0.91), label: 'no' },
      { version: canary, route: 'canary', latencyMs: 3, outputs: yes(0.85), label: 'yes' },
      { version: canary, route: 'canary', latencyMs: 4, outputs: yes(0.6) },
      { version: canary, route: 'canary', latencyMs: 5, outputs: yes(0.55) },
      { version: canary, route: 'canary', latencyMs: 6, outputs: yes(1) },
      { version: canary, route: 'canary', latencyMs: 7, outputs: { label: 'no', probability: 0.05, probabilities: { no: 0.95, yes: 0.05 } }, label: 'no' },
      { version: canary, route: 'canary', latencyMs: 8, outputs: { label: 'no', probability: 0.3, probabilities: { no: 0.7, yes: 0.3 } } },
      { version: canary, route: 'canary', latencyMs: 9, error: 'non-finite output', label: 'yes' },
      { version: canary, route: 'canary', latencyMs: 10, error: 'non-finite output', second: 599 },
      // Outside: before the window, at its end, another route, another endpoint, another version.
      { version: canary, route: 'canary', latencyMs: 500, outputs: yes(0.5), second: -1 },
      { version: canary, route: 'canary', latencyMs: 500, outputs: yes(0.5), second: 600 },
      { version: canary, route: 'shadow', latencyMs: 500, outputs: yes(0.5) },
      { version: canary, route: 'canary', latencyMs: 500, outputs: yes(0.5), endpoint: otherEndpointId },
      { version: versions.stable, latencyMs: 500, outputs: yes(0.5) },
    ]);
    const window = await readPredictionWindow(database.db, { endpointId, versionId: canary, route: 'canary', ...WINDOW });
    expect(window.total).toBe(10);
    expect(window.errors).toBe(2);
    // percentile_cont(0.99) of 1 … 10: position 0.99·9 = 8.91 → 9 + 0.91·(10 − 9)
    expect(window.p99LatencyMs).toBeCloseTo(9.91, 4);
    expect(window.outputs).toEqual({ kind: 'classification', labels: { yes: 6, no: 2 }, probabilityBins: [1, 0, 0, 1, 0, 1, 1, 0, 1, 3] });
    // Labelled answered rows: yes/yes ✓, yes/no ✗, yes/yes ✓, no/no ✓ (the labelled error row does not count).
    expect(window.accuracy).toEqual({ labelled: 4, correct: 3 });

    const everyRoute = await readPredictionWindow(database.db, { endpointId, versionId: canary, ...WINDOW });
    expect(everyRoute.total).toBe(11);
  });

  it('bins the top-class probability of a multi-class model and compares number labels as text', async () => {
    const probs = (a: number, b: number, c: number) => ({ label: a > b && a > c ? 'a' : b > c ? 'b' : 'c', probabilities: { a, b, c } });
    await insertRows([
      { version: versions.multi, outputs: probs(0.2, 0.7, 0.1) },
      { version: versions.multi, outputs: probs(0.55, 0.25, 0.2) },
      { version: versions.multi, outputs: probs(0.1, 0.1, 0.8) },
      { version: versions.numeric, outputs: { label: 1, probability: 0.8, probabilities: { 0: 0.2, 1: 0.8 } }, label: 1 },
      { version: versions.numeric, outputs: { label: 0, probability: 0.1, probabilities: { 0: 0.9, 1: 0.1 } }, label: '0' },
      { version: versions.numeric, outputs: { label: 0, probability: 0.4, probabilities: { 0: 0.6, 1: 0.4 } }, label: 1 },
    ]);
    const multi = await readPredictionWindow(database.db, { endpointId, versionId: versions.multi, route: 'stable', ...WINDOW });
    expect(multi.outputs).toEqual({ kind: 'classification', labels: { a: 1, b: 1, c: 1 }, probabilityBins: [0, 0, 0, 0, 0, 1, 0, 1, 1, 0] });
    const numeric = await readPredictionWindow(database.db, { endpointId, versionId: versions.numeric, ...WINDOW });
    expect(numeric.outputs).toMatchObject({ labels: { 0: 2, 1: 1 } });
    expect(numeric.accuracy).toEqual({ labelled: 3, correct: 2 });
  });

  it("bins a regressor on its own deciles, and a candidate on the stable window's edges", async () => {
    await insertRows([
      ...Array.from({ length: 101 }, (_, i) => ({ version: versions.regStable, outputs: { value: i + 1 }, second: i })),
      { version: versions.regCanary, route: 'canary', outputs: { value: 5 } },
      { version: versions.regCanary, route: 'canary', outputs: { value: 200 } },
      { version: versions.regCanary, route: 'canary', outputs: { value: 91 } },
    ]);
    const stable = await readPredictionWindow(database.db, { endpointId, versionId: versions.regStable, route: 'stable', ...WINDOW });
    // Deciles of 1 … 101 are 11, 21 … 91: ten values below 11 in bin 0, then ten per bin, 91 … 101 in the last.
    expect(stable.outputs).toEqual({ kind: 'regression', edges: [11, 21, 31, 41, 51, 61, 71, 81, 91], bins: [10, 10, 10, 10, 10, 10, 10, 10, 10, 11] });
    expect(stable.accuracy).toBeNull();
    const edges = stable.outputs?.kind === 'regression' ? stable.outputs.edges : [];
    const candidate = await readPredictionWindow(database.db, { endpointId, versionId: versions.regCanary, route: 'canary', ...WINDOW, valueEdges: edges });
    expect(candidate.outputs).toEqual({ kind: 'regression', edges, bins: [1, 0, 0, 0, 0, 0, 0, 0, 0, 2] });
  });

  it('reads an empty window as zero rows with nothing to measure', async () => {
    const empty = await readPredictionWindow(database.db, { endpointId, versionId: versions.canary, route: 'canary', from: at(-7200), to: at(-3600) });
    expect(empty).toEqual({ total: 0, errors: 0, p99LatencyMs: null, outputs: null, accuracy: { labelled: 0, correct: 0 } });
  });
});
