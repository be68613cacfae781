import type { InferenceSession } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceBatcher, type ModelRun } from '../../serving/batcher';
import { loadOnnxSession, runOnnxModel } from '../../serving/onnx-session';
import { ServingMetrics } from '../../serving/metrics';
import { goodOnnx } from '../support/onnx-graphs';

/** A real two-feature classifier: each row's [p(no), p(yes)], so a slice can be checked against a run of its own. */
let session: InferenceSession;
const runs: number[] = [];
const run: ModelRun = async (x, rows) => {
  runs.push(rows);
  return runOnnxModel(session, x, rows, 2, 'probabilities');
};
const rowsOf = (n: number, seed: number): Float32Array => Float32Array.from({ length: n * 2 }, (_, i) => ((i * 7 + seed * 13) % 11) - 5);

beforeAll(async () => {
  session = await loadOnnxSession(goodOnnx());
});
afterAll(async () => {
  await session.release();
});

describe('InferenceBatcher', () => {
  it('merges concurrent requests into one run and gives each its own slice of the outputs', async () => {
    runs.length = 0;
    const batcher = new InferenceBatcher({ enabled: true, maxRows: 256, maxDelayMs: 0 });
    const requests = [1, 3, 2, 5, 1].map((n, i) => rowsOf(n, i));
    const answers = await Promise.all(requests.map((x) => batcher.run('v1', x, x.length / 2, run)));
    // The first request runs at once; the four that arrived while it ran share the next run.
    expect(runs).toEqual([1, 11]);
    for (const [i, x] of requests.entries()) {
      expect(Array.from(answers[i] ?? [])).toEqual(Array.from(await runOnnxModel(session, x, x.length / 2, 2, 'probabilities')));
    }
  });

  it('never puts more than maxRows rows in a run, but runs a larger request alone', async () => {
    runs.length = 0;
    const batcher = new InferenceBatcher({ enabled: true, maxRows: 4, maxDelayMs: 0 });
    const sizes = [1, 2, 2, 3, 1, 6, 1];
    const answers = await Promise.all(sizes.map((n, i) => batcher.run('v1', rowsOf(n, i), n, run)));
    expect(answers.map((a) => a.length / 2)).toEqual(sizes);
    expect(runs.reduce((a, b) => a + b, 0)).toBe(16);
    expect(runs.filter((r) => r > 4)).toEqual([6]);
    expect(runs).toEqual([1, 4, 4, 6, 1]);
  });

  it('waits up to maxDelayMs for company, and runs as soon as maxRows are waiting', async () => {
    runs.length = 0;
    // Generous, so a loaded machine cannot make the second request miss the window.
    const delayed = new InferenceBatcher({ enabled: true, maxRows: 100, maxDelayMs: 300 });
    const first = delayed.run('v1', rowsOf(1, 1), 1, run);
    await new Promise((r) => setImmediate(r));
    const second = delayed.run('v1', rowsOf(2, 2), 2, run);
    await Promise.all([first, second]);
    expect(runs).toEqual([3]);

    runs.length = 0;
    const full = new InferenceBatcher({ enabled: true, maxRows: 3, maxDelayMs: 60_000 });
    // Would wait a minute if the size limit did not start the run.
    await Promise.all([full.run('v1', rowsOf(1, 1), 1, run), full.run('v1', rowsOf(2, 3), 2, run)]);
    expect(runs).toEqual([3]);
  });

  it('fails every request of a run that fails, and keeps versions apart', async () => {
    const batcher = new InferenceBatcher({ enabled: true, maxRows: 256, maxDelayMs: 5 });
    const failing: ModelRun = () => Promise.reject(new Error('session gone'));
    const results = await Promise.allSettled([batcher.run('bad', rowsOf(1, 1), 1, failing), batcher.run('bad', rowsOf(1, 2), 1, failing), batcher.run('good', rowsOf(1, 3), 1, run)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
  });

  it('runs each request on its own when batching is off, and records every run in the batch-size histogram', async () => {
    runs.length = 0;
    const metrics = new ServingMetrics({ processMetrics: false });
    const off = new InferenceBatcher({ enabled: false, maxRows: 256, maxDelayMs: 0, onRun: (label, rows) => metrics.observeBatch(label, rows) });
    await Promise.all([1, 2, 3].map((n) => off.run('v1', rowsOf(n, n), n, run, 'churn:1')));
    expect(runs).toEqual([1, 2, 3]);
    expect(await metrics.render()).toMatch(/factory_inference_batch_rows_count\{version="churn:1"\} 3/);
  });
});
