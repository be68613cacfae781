import seedrandom from 'seedrandom';

/** Fisher–Yates with a seeded generator: the same seed always gives the same order. */
export function seededShuffle<T extends { length: number; [i: number]: number }>(indices: T, seed: string | number): T {
  const random = seedrandom(String(seed));
  for (let i = indices.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = indices[i] as number;
    indices[i] = indices[j] as number;
    indices[j] = tmp;
  }
  return indices;
}

/** A reproducible train/test split of row indices, each side sorted; both sides non-empty when n ≥ 2. */
export function splitRows(n: number, testFraction: number, seed: number): { train: Uint32Array; test: Uint32Array } {
  const order = seededShuffle(Uint32Array.from({ length: n }, (_, i) => i), `split:${seed}`);
  let testSize = Math.round(n * testFraction);
  if (n >= 2) testSize = Math.min(Math.max(testSize, 1), n - 1);
  const test = order.slice(0, testSize).sort();
  const train = order.slice(testSize).sort();
  return { train, test };
}
