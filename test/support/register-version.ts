import { CANDIDATE_FEATURES, registerCandidate } from './candidate-models';
import type { TestFactory } from './test-factory';

/**
 * Registers a model version straight from ONNX bytes (a two-feature binary classifier on f0, f1, as
 * test/support/onnx-graphs.ts builds them). Rollout tests use it to make candidates without training.
 */
export async function registerOnnxVersion(t: TestFactory, modelName: string, onnx: Uint8Array): Promise<{ versionId: string; version: number }> {
  const registered = await registerCandidate(t, onnx, { model: modelName, features: CANDIDATE_FEATURES });
  return { versionId: registered.modelVersionId, version: registered.version };
}
