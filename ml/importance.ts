import type { FeatureImportance } from '../domain/model';

/** A seeded PRNG (mulberry32): the same seed shuffles the same way on every retry. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface PermutationInput {
  /** Row-major held-out features [n][features.length]. */
  x: Float32Array;
  n: number;
  features: string[];
  metric: FeatureImportance['metric'];
  repeats: number;
  seed: number;
  /** Scores features with the model: the headline metric, higher is better. */
  score: (x: Float32Array) => Promise<number>;
  /** Called after each feature, e.g. to heartbeat. */
  progress?: (done: number) => void;
}

/**
 * Permutation feature importance (Breiman 2001; scikit-learn's permutation_importance): for each feature,
 * shuffle its column `repeats` times and record how much the metric drops; mean ± (population) std.
 */
export async function permutationImportance(input: PermutationInput): Promise<FeatureImportance> {
  const width = input.features.length;
  const baseline = await input.score(input.x);
  const random = seededRandom(input.seed);
  const results: FeatureImportance['features'] = [];
  for (let j = 0; j < width; j++) {
    const drops: number[] = [];
    for (let r = 0; r < input.repeats; r++) {
      const permuted = input.x.slice();
      const order = Array.from({ length: input.n }, (_, i) => i);
      for (let i = input.n - 1; i > 0; i--) {
        const k = Math.floor(random() * (i + 1));
        [order[i], order[k]] = [order[k] as number, order[i] as number];
      }
      for (let i = 0; i < input.n; i++) permuted[i * width + j] = input.x[(order[i] as number) * width + j] as number;
      drops.push(baseline - (await input.score(permuted)));
    }
    const mean = drops.reduce((a, b) => a + b, 0) / drops.length;
    const std = Math.sqrt(drops.reduce((a, b) => a + (b - mean) ** 2, 0) / drops.length);
    results.push({ feature: input.features[j] as string, mean, std });
    input.progress?.(j + 1);
  }
  results.sort((a, b) => b.mean - a.mean);
  return { metric: input.metric, baseline, repeats: input.repeats, seed: input.seed, rows: input.n, features: results };
}
