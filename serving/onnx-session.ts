import { InferenceSession, Tensor } from 'onnxruntime-node';

/** Runs a factory ONNX model on row-major float32 `features` [n, f] and returns the named output, row-major. */
export async function runOnnxModel(session: InferenceSession, x: Float32Array, n: number, width: number, outputName: string): Promise<Float32Array> {
  const result = await session.run({ features: new Tensor('float32', x, [n, width]) }, [outputName]);
  const output = result[outputName];
  if (!output) throw new Error(`The ONNX model has no "${outputName}" output.`);
  return output.data as Float32Array;
}

export async function loadOnnxSession(bytes: Uint8Array): Promise<InferenceSession> {
  return InferenceSession.create(bytes, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
}
