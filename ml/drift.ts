import { jStat } from 'jstat';

/**
 * Distribution comparisons for drift, the methods Evidently uses, computed from counts on shared bins or
 * categories so they run on SQL aggregates and merged sketches instead of raw rows (bounded memory at any
 * window size). `reference` is the training split, `current` a window of production traffic.
 */

/** The share an empty bin counts as in PSI, so ln(a/b) stays finite: Evidently's choice (stattests/utils.py `get_binned_data`). */
export const PSI_EMPTY_BIN_SHARE = 0.0001;

function shares(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total > 0 ? c / total : 0));
}

function checkSameLength(reference: readonly number[], current: readonly number[]): void {
  if (reference.length !== current.length) throw new Error(`bins differ: ${reference.length} reference, ${current.length} current`);
}

/**
 * Population stability index Σ (c − r)·ln(c / r) over bin shares, an empty bin counting as 0.0001: the formula
 * of Evidently's `psi` stat test. Symmetric; 0 for identical shares; under 0.1 is read as no shift, above 0.2 as large.
 */
export function populationStabilityIndex(reference: readonly number[], current: readonly number[]): number {
  checkSameLength(reference, current);
  const r = shares(reference).map((s) => (s > 0 ? s : PSI_EMPTY_BIN_SHARE));
  const c = shares(current).map((s) => (s > 0 ? s : PSI_EMPTY_BIN_SHARE));
  return r.reduce((sum, ri, i) => {
    const ci = c[i] as number;
    return sum + (ci - ri) * Math.log(ci / ri);
  }, 0);
}

/** P(K > λ) for the Kolmogorov distribution: 2 Σ_{j≥1} (−1)^{j−1} e^{−2 j² λ²}. */
export function kolmogorovSurvival(lambda: number): number {
  if (lambda <= 0) return 1;
  let sum = 0;
  for (let j = 1; j <= 100; j += 1) {
    const term = Math.exp(-2 * j * j * lambda * lambda);
    sum += (j % 2 === 1 ? 1 : -1) * term;
    if (term < 1e-12) break;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}

export interface TestResult {
  statistic: number;
  pValue: number;
}

/**
 * Two-sample Kolmogorov–Smirnov on counts over the same ordered bins: D = max |F_ref − F_cur| at the bin
 * edges, which on fine quantile bins is a close lower bound of the exact statistic. The p-value comes from
 * the asymptotic Kolmogorov distribution (scipy.stats.kstwobign) at √(nm/(n+m))·D: windows are large.
 */
export function kolmogorovSmirnov(reference: readonly number[], current: readonly number[]): TestResult {
  checkSameLength(reference, current);
  const n = reference.reduce((a, b) => a + b, 0);
  const m = current.reduce((a, b) => a + b, 0);
  if (n === 0 || m === 0) return { statistic: 0, pValue: 1 };
  let fr = 0;
  let fc = 0;
  let d = 0;
  reference.forEach((count, i) => {
    fr += count / n;
    fc += (current[i] as number) / m;
    d = Math.max(d, Math.abs(fr - fc));
  });
  return { statistic: d, pValue: kolmogorovSurvival(Math.sqrt((n * m) / (n + m)) * d) };
}

/**
 * Chi-squared test of homogeneity on category counts (a 2 × k contingency table, as scipy's
 * chi2_contingency without continuity correction); categories empty on both sides are left out.
 */
export function chiSquaredTest(reference: readonly number[], current: readonly number[]): TestResult & { dof: number } {
  checkSameLength(reference, current);
  const cells = reference.map((r, i) => [r, current[i] as number] as const).filter(([r, c]) => r + c > 0);
  const n = cells.reduce((a, [r]) => a + r, 0);
  const m = cells.reduce((a, [, c]) => a + c, 0);
  const dof = cells.length - 1;
  if (n === 0 || m === 0 || dof < 1) return { statistic: 0, pValue: 1, dof: Math.max(dof, 0) };
  const total = n + m;
  let statistic = 0;
  for (const [r, c] of cells) {
    const expectedR = ((r + c) * n) / total;
    const expectedC = ((r + c) * m) / total;
    statistic += (r - expectedR) ** 2 / expectedR + (c - expectedC) ** 2 / expectedC;
  }
  return { statistic, dof, pValue: 1 - jStat.chisquare.cdf(statistic, dof) };
}

/** Jensen–Shannon distance in base 2 (0 = same, 1 = disjoint), as scipy's `jensenshannon(p, q, base=2)` that Evidently uses. */
export function jensenShannonDistance(reference: readonly number[], current: readonly number[]): number {
  checkSameLength(reference, current);
  const p = shares(reference);
  const q = shares(current);
  let divergence = 0;
  p.forEach((pi, i) => {
    const qi = q[i] as number;
    const mi = (pi + qi) / 2;
    if (pi > 0) divergence += 0.5 * pi * Math.log2(pi / mi);
    if (qi > 0) divergence += 0.5 * qi * Math.log2(qi / mi);
  });
  return Math.sqrt(Math.max(0, divergence));
}

/**
 * Wasserstein-1 distance from counts on bins with the given edges (length bins + 1, finite), mass spread
 * evenly within each bin: ∫ |F_ref − F_cur| dx, exact for piecewise-linear CDFs. Evidently reports it divided
 * by the reference's standard deviation (`wasserstein_distance_norm`); pass that to `normalisedBy`.
 */
export function wassersteinDistance(reference: readonly number[], current: readonly number[], edges: readonly number[], normalisedBy = 1): number {
  checkSameLength(reference, current);
  if (edges.length !== reference.length + 1) throw new Error(`${reference.length} bins need ${reference.length + 1} edges, got ${edges.length}`);
  const r = shares(reference);
  const c = shares(current);
  let before = 0;
  let distance = 0;
  r.forEach((ri, i) => {
    const after = before + ri - (c[i] as number);
    const width = (edges[i + 1] as number) - (edges[i] as number);
    // |d| is linear across the bin: its integral is the trapezoid, or two triangles when d changes sign.
    const area = Math.sign(before) === -Math.sign(after) && before !== 0 ? (before * before + after * after) / (2 * (Math.abs(before) + Math.abs(after))) : (Math.abs(before) + Math.abs(after)) / 2;
    distance += area * width;
    before = after;
  });
  return normalisedBy > 0 ? distance / normalisedBy : distance;
}
