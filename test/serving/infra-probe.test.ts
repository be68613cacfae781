import { describe, expect, it } from 'vitest';
import { InfraProbeFailure, percentile, probeModelInChildProcess, runtimeFlags, type InfraProbeOptions } from '../../serving/infra-probe';
import { goodOnnx, nanOnnx, unknownOpOnnx, wrongShapeOnnx } from '../support/onnx-graphs';

const rows = Float32Array.from([1, 2, -1, 0.5, 3, -2, 0, 0]);
const options = (onnx: Uint8Array, extra: Partial<InfraProbeOptions> = {}): InfraProbeOptions => ({
  onnx,
  x: rows,
  n: 4,
  width: 2,
  outputName: 'probabilities',
  outputWidth: 2,
  probabilities: true,
  latencyBudgetMs: 10_000,
  latencyCalls: 20,
  ...extra,
});

async function failure(promise: Promise<unknown>): Promise<InfraProbeFailure> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof InfraProbeFailure) return err;
    throw err;
  }
  throw new Error('expected an InfraProbeFailure');
}

/** Real onnxruntime in a real child process, with real broken graphs. */
describe('infra-validation in a serving-runtime child process', () => {
  it('passes a good model and reports its latency percentiles', async () => {
    const result = await probeModelInChildProcess(options(goodOnnx()));
    expect(result).toMatchObject({ rows: 4, latencyCalls: 20, latencyBudgetMs: 10_000 });
    expect(result.p99Ms).toBeGreaterThanOrEqual(result.p50Ms);
  });
  it('fails a graph with an unknown operator at load', async () => {
    const err = await failure(probeModelInChildProcess(options(unknownOpOnnx())));
    expect(err.reason).toBe('load');
    expect(err.message).toMatch(/NoSuchOperator/);
  });
  it('fails a model whose outputs are NaN', async () => {
    const err = await failure(probeModelInChildProcess(options(nanOnnx())));
    expect(err.reason).toBe('output');
    expect(err.message).toMatch(/NaN on sample row 0/);
  });
  it('fails outputs of the wrong shape', async () => {
    const err = await failure(probeModelInChildProcess(options(wrongShapeOnnx())));
    expect(err).toMatchObject({ reason: 'output' });
    expect(err.message).toMatch(/shape \[4, 1\].*\[4, 2\]/);
  });
  it('kills a runtime that does not answer in time', async () => {
    const err = await failure(probeModelInChildProcess(options(goodOnnx(), { loadTimeoutMs: 1 })));
    expect(err.reason).toBe('timeout');
    expect(err.message).toMatch(/killed/);
  });
  it('fails a model over the latency budget', async () => {
    const err = await failure(probeModelInChildProcess(options(goodOnnx(), { latencyBudgetMs: 1e-9 })));
    expect(err.reason).toBe('latency');
  });
  it('passes node flags on to the child but not an inline script', () => {
    expect(runtimeFlags(['--import', 'tsx', '-e', 'code()', '--max-old-space-size=512', '--eval=x'])).toEqual(['--import', 'tsx', '--max-old-space-size=512']);
  });
  it('takes nearest-rank percentiles', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(sorted, 0.5), percentile(sorted, 0.99), percentile([7], 0.99)]).toEqual([50, 99, 7]);
  });
});
