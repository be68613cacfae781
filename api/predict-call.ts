import { performance } from 'node:perf_hooks';
import type { ServingMetrics } from '../serving/metrics';
import type { PredictOptions, PredictResponse, Predictor } from '../serving/predictor';
import { UserError } from '../platform/user-error';

/** Requests carrying the same value in this header stick to one version while a canary runs. */
export const ROUTING_KEY_HEADER = 'x-routing-key';

/**
 * Calls the predictor and records the request in the Prometheus series (per endpoint, version and route).
 * An unknown endpoint is not recorded: its name comes from the caller and would make a series per typo.
 */
export async function predictWithMetrics(
  deps: { predictor: Predictor; metrics: ServingMetrics },
  projectId: string,
  endpointName: string,
  records: Record<string, unknown>[],
  opts: PredictOptions,
): Promise<PredictResponse> {
  const started = performance.now();
  try {
    const answer = await deps.predictor.predict(projectId, endpointName, records, opts);
    const version = `${answer.modelVersion.model}:${answer.modelVersion.version}`;
    deps.metrics.observePrediction({ project: projectId, endpoint: answer.endpoint, version, route: answer.route }, records.length, (performance.now() - started) / 1000);
    return answer;
  } catch (err) {
    const code = err instanceof UserError ? err.code : 'internal_error';
    if (code !== 'endpoint_not_found') {
      deps.metrics.observeError({ project: projectId, endpoint: endpointName, version: 'unknown', route: 'stable' }, code, records.length, (performance.now() - started) / 1000);
    }
    throw err;
  }
}
