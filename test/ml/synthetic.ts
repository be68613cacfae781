import seedrandom from 'seedrandom';

/** Three features, label from a known linear rule with a little noise: a model should learn it. */
export function separable(n: number, seed = 'ml'): { x: Float32Array; y: Float32Array } {
  const random = seedrandom(seed);
  const x = new Float32Array(n * 3);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const a = random() * 10;
    const b = random() * 100 - 50;
    const c = random();
    x.set([a, b, c], i * 3);
    y[i] = 0.8 * a - 0.1 * b - 4 + (random() - 0.5) > 0 ? 1 : 0;
  }
  return { x, y };
}
