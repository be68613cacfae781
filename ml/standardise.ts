export interface Standardisation {
  mean: number[];
  std: number[];
}

/** Per-feature mean and population std of a row-major [n][width] matrix; a constant feature gets std 1. */
export function computeStandardisation(x: ArrayLike<number>, n: number, width: number): Standardisation {
  const mean = new Array<number>(width).fill(0);
  const sq = new Array<number>(width).fill(0);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < width; j++) mean[j] = (mean[j] as number) + (x[i * width + j] as number);
  }
  for (let j = 0; j < width; j++) mean[j] = n > 0 ? (mean[j] as number) / n : 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < width; j++) {
      const d = (x[i * width + j] as number) - (mean[j] as number);
      sq[j] = (sq[j] as number) + d * d;
    }
  }
  const std = sq.map((s) => {
    const v = n > 0 ? Math.sqrt(s / n) : 0;
    return Number.isFinite(v) && v > 1e-12 ? v : 1;
  });
  // Stored as float32 so training, TensorFlow.js inference and the ONNX graph use the very same numbers.
  return { mean: mean.map(Math.fround), std: std.map(Math.fround) };
}

/** (x - mean) / std in float32, the same arithmetic the exported ONNX graph performs. */
export function applyStandardisation(x: ArrayLike<number>, n: number, s: Standardisation): Float32Array {
  const width = s.mean.length;
  const out = new Float32Array(n * width);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < width; j++) {
      const centred = Math.fround((x[i * width + j] as number) - (s.mean[j] as number));
      out[i * width + j] = centred / (s.std[j] as number);
    }
  }
  return out;
}

/** A regression target as the model learns it: (y - mean) / std, with mean and std kept (float32) to undo it. */
export function standardiseTarget(y: ArrayLike<number>): { y: Float32Array; target: { mean: number; std: number } } {
  const scaling = computeStandardisation(y, y.length, 1);
  const mean = scaling.mean[0] ?? 0;
  const std = scaling.std[0] ?? 1;
  const out = Float32Array.from({ length: y.length }, (_, i) => Math.fround((y[i] as number) - mean) / std);
  return { y: out, target: { mean, std } };
}
