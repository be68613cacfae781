import { InferenceSession, Tensor } from 'onnxruntime-node';

/** Runs a factory ONNX model (`features` [n, f] → `probability` [n, 1]) on row-major float32 input. */
export async function runOnnxModel(session: InferenceSession, x: Float32Array, n: number, width: number): Promise<Float32Array> {
  const result = await session.run({ features: new Tensor('float32', x, [n, width]) });
  const output = result.probability;
  if (!output) throw new Error('The ONNX model has no "probability" output.');
  return output.data as Float32Array;
}

export async function loadOnnxSession(bytes: Uint8Array): Promise<InferenceSession> {
  return InferenceSession.create(bytes, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
}
