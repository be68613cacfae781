import { distinctEdges, PROBABILITY_BINS, VALUE_QUANTILES, type OutputHistogram, type PredictionWindow } from '../domain/prediction-window';
import { DEFAULT_MIN_REQUESTS, type GateName, type GateReading, type RolloutGates } from '../domain/rollout';
import { populationStabilityIndex } from './drift';
import { binIndex } from './drift-baseline';

/** The order gates are checked in: the first breached one is the one a rollback names. */
export const GATE_ORDER: readonly GateName[] = ['errorRate', 'p99LatencyMs', 'predictionShiftPsi', 'minAccuracy'];

/** PSI of two distributions given as counts over the same bins (see ml/drift); null when either side has no counts. */
export function psi(reference: readonly number[], current: readonly number[]): number | null {
  const total = (counts: readonly number[]) => counts.reduce((a, b) => a + b, 0);
  if (reference.length !== current.length) throw new Error(`PSI needs the same bins on both sides (${reference.length} vs ${current.length}).`);
  return total(reference) > 0 && total(current) > 0 ? populationStabilityIndex(reference, current) : null;
}

/**
 * How far the candidate's outputs moved from stable's. Regression: PSI over the shared quantile bins.
 * Classification: the larger of the PSI of predicted-label frequencies and the PSI of the probability bins.
 * Each sees a shift the other can miss: a candidate that predicts the same labels with confidence collapsed
 * towards 0.5 leaves label frequencies alone, and a multi-class candidate that swaps which class wins at the
 * same confidence leaves the top-class probability histogram alone. Taking the larger lets neither hide
 * behind the other (an average would halve a shift seen by one view only).
 * Null when either side has no answered predictions.
 */
export function outputShiftPsi(stable: OutputHistogram, candidate: OutputHistogram): number | null {
  if (stable.kind === 'regression' && candidate.kind === 'regression') {
    if (stable.edges.length !== candidate.edges.length || stable.edges.some((e, i) => e !== candidate.edges[i])) {
      throw new Error('Regression outputs must be binned on the same edges (the stable window\'s quantiles) to be compared.');
    }
    return psi(stable.bins, candidate.bins);
  }
  if (stable.kind === 'classification' && candidate.kind === 'classification') {
    const labels = [...new Set([...Object.keys(stable.labels), ...Object.keys(candidate.labels)])];
    const labelPsi = psi(
      labels.map((l) => stable.labels[l] ?? 0),
      labels.map((l) => candidate.labels[l] ?? 0),
    );
    const probabilityPsi = psi(stable.probabilityBins, candidate.probabilityBins);
    if (labelPsi === null || probabilityPsi === null) return null;
    return Math.max(labelPsi, probabilityPsi);
  }
  throw new Error(`A ${candidate.kind} candidate cannot be compared with a ${stable.kind} stable version.`);
}

/** The fixed probability bin of p: ⌊10p⌋, with 1 in the last bin and anything outside [0, 1] clamped. */
export function probabilityBin(p: number): number {
  return Math.min(PROBABILITY_BINS - 1, Math.max(0, Math.floor(p * PROBABILITY_BINS)));
}

/** The bin of a value between ascending edges, as PostgreSQL's width_bucket(value, edges) numbers it. */
export const valueBin = (value: number, edges: readonly number[]): number => binIndex(edges, value);

/** Percentile with linear interpolation between ranks, as PostgreSQL's percentile_cont computes it; `sorted` ascending. */
export function percentileCont(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const position = p * (sorted.length - 1);
  const lo = Math.floor(position);
  const first = sorted[lo] as number;
  const second = sorted[Math.ceil(position)] as number;
  return first + (second - first) * (position - lo);
}

/** Deciles of a regressor's outputs as bin edges (for an in-memory sample; the prediction log computes them in SQL). */
export function decileEdges(values: readonly number[]): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  return distinctEdges(VALUE_QUANTILES.map((q) => percentileCont(sorted, q) ?? 0));
}

export function regressionHistogram(values: readonly number[], edges: readonly number[]): OutputHistogram {
  const bins = new Array<number>(edges.length + 1).fill(0);
  for (const v of values) bins[valueBin(v, edges)]! += 1;
  return { kind: 'regression', edges: [...edges], bins };
}

/** `probability`: of the positive class for two classes, of the predicted class for more. */
export function classificationHistogram(rows: readonly { label: string; probability: number }[]): OutputHistogram {
  const labels: Record<string, number> = {};
  const probabilityBins = new Array<number>(PROBABILITY_BINS).fill(0);
  for (const row of rows) {
    labels[row.label] = (labels[row.label] ?? 0) + 1;
    probabilityBins[probabilityBin(row.probability)]! += 1;
  }
  return { kind: 'classification', labels, probabilityBins };
}

/** The candidate's window and stable's rows over the same window on the same endpoint (null when stable had none). */
export interface WindowReadings {
  candidate: PredictionWindow;
  stable: PredictionWindow | null;
}

export interface GateEvaluation {
  /** One reading per configured gate, in GATE_ORDER. */
  readings: GateReading[];
  /** The first gate in GATE_ORDER judged and out of bounds, or null. */
  breached: GateReading | null;
  /** The candidate had fewer predictions than `minRequests`: nothing was judged. */
  belowMinRequests: boolean;
  /** Why the window cannot pass yet (too few predictions, a gate with no reading, no labels), or null when every gate was judged. */
  insufficient: string | null;
  /** One sentence for the rollout's history: what was judged on how many predictions, and the verdict. */
  summary: string;
}

/**
 * Holds a window's readings to the gates. Guards fail closed: a gate passes only when it was judged (enough
 * candidate predictions, a value to read) and is within its threshold. With fewer candidate predictions than
 * `minRequests` (default DEFAULT_MIN_REQUESTS) nothing is judged; a gate with nothing to read (no stable rows to
 * compare with, no feedback labels) leaves the window insufficient, not passed.
 */
export function evaluateGates(gates: RolloutGates, window: WindowReadings): GateEvaluation {
  const { candidate, stable } = window;
  const minRequests = gates.minRequests ?? DEFAULT_MIN_REQUESTS;
  const belowMinRequests = candidate.total < minRequests;
  const answered = candidate.total - candidate.errors;
  const measured: Record<GateName, { value: number | null; samples: number }> = {
    errorRate: { value: candidate.total > 0 ? candidate.errors / candidate.total : null, samples: candidate.total },
    p99LatencyMs: { value: candidate.total > 0 ? candidate.p99LatencyMs : null, samples: candidate.total },
    predictionShiftPsi: { value: candidate.outputs && stable?.outputs ? outputShiftPsi(stable.outputs, candidate.outputs) : null, samples: answered },
    minAccuracy: {
      value: candidate.accuracy && candidate.accuracy.labelled > 0 ? candidate.accuracy.correct / candidate.accuracy.labelled : null,
      samples: candidate.accuracy?.labelled ?? 0,
    },
  };
  const readings: GateReading[] = [];
  for (const gate of GATE_ORDER) {
    const threshold = gates[gate];
    if (threshold === undefined) continue;
    const { value, samples } = measured[gate];
    readings.push({ gate, threshold, value, samples, passed: !belowMinRequests && value !== null && within(gate, value, threshold) });
  }
  // Too few predictions to judge: a breach on a handful of requests is noise, and so is a pass.
  const breached = belowMinRequests ? null : (readings.find((r) => r.value !== null && !r.passed) ?? null);
  const unread = readings.filter((r) => r.value === null).map((r) => r.gate);
  const insufficient = belowMinRequests
    ? `${candidate.total} candidate predictions, fewer than the ${minRequests} minRequests asks for`
    : unread.length > 0
      ? `no reading for ${unread.map((g) => `${g} (${NO_READING[g]})`).join(', ')}`
      : null;
  return { readings, breached, belowMinRequests, insufficient, summary: summarise(candidate.total, insufficient, breached) };
}

/** What a gate with no reading lacked. */
const NO_READING: Record<GateName, string> = {
  errorRate: 'no candidate predictions',
  p99LatencyMs: 'no candidate predictions',
  predictionShiftPsi: 'no answered predictions of both versions to compare',
  minAccuracy: 'no feedback labels on candidate predictions',
};

/** Upper bounds for error rate, latency and shift; a lower bound for accuracy. */
function within(gate: GateName, value: number, threshold: number): boolean {
  return gate === 'minAccuracy' ? value >= threshold : value <= threshold;
}

function summarise(total: number, insufficient: string | null, breached: GateReading | null): string {
  if (breached) {
    const bound = breached.gate === 'minAccuracy' ? 'below the minimum' : 'over the limit';
    return `Gate ${breached.gate} breached: ${formatReading(breached.value)} is ${bound} of ${breached.threshold} (${breached.samples} samples).`;
  }
  if (insufficient) return `Not enough data to judge: ${insufficient}; nothing passed.`;
  return `Every gate passed on ${total} candidate predictions.`;
}

function formatReading(value: number | null): string {
  return value === null ? 'no reading' : Number(value.toPrecision(4)).toString();
}
