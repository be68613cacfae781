import {
  DEFAULT_SIMULATION_THRESHOLDS,
  type SimulationFailure,
  type SimulationThresholds,
  type RolloutSimulationReport,
} from '../domain/rollout-evaluation';
import { classificationHistogram, decileEdges, outputShiftPsi, regressionHistogram } from './rollout-gates';

/** A classifier's answer as the gates see it: the label, and the positive-class (two classes) or top-class probability. */
export interface ClassAnswer {
  label: string;
  probability: number;
}

export interface ReplayComparison {
  candidateErrors: number;
  agreement: number | null;
  agreementRule: string;
  outputShiftPsi: number | null;
}

export const CLASSIFICATION_AGREEMENT_RULE = 'the same predicted label';

/** A regressor agrees within this share of the stable value (or of stable's spread near zero). */
export const REGRESSION_RELATIVE_TOLERANCE = 0.05;
export const REGRESSION_AGREEMENT_RULE =
  'within 5 % of the stable value, or of the standard deviation of stable values where that is larger (near zero a relative tolerance is empty)';

/** Stable's and the candidate's answers to the same replayed requests, in order; null where the candidate failed. */
export function compareClassifications(stable: readonly ClassAnswer[], candidate: readonly (ClassAnswer | null)[]): ReplayComparison {
  const answered = candidate.filter((c): c is ClassAnswer => c !== null);
  const agreed = stable.filter((s, i) => candidate[i]?.label === s.label).length;
  return {
    candidateErrors: candidate.length - answered.length,
    agreement: stable.length > 0 ? agreed / stable.length : null,
    agreementRule: CLASSIFICATION_AGREEMENT_RULE,
    outputShiftPsi: stable.length > 0 && answered.length > 0 ? outputShiftPsi(classificationHistogram(stable), classificationHistogram(answered)) : null,
  };
}

/**
 * Regressors agree when |candidate − stable| ≤ 5 % of max(|stable|, std of stable values): relative where values are
 * large, and in the output's own units near zero, where 5 % of a tiny value would demand exact equality. The
 * shift is PSI over stable's deciles, as the live gate bins it.
 */
export function compareRegressions(stable: readonly number[], candidate: readonly (number | null)[]): ReplayComparison {
  const answered = candidate.filter((c): c is number => c !== null);
  const spread = standardDeviation(stable);
  const agreed = stable.filter((s, i) => {
    const c = candidate[i];
    return c !== null && c !== undefined && Math.abs(c - s) <= REGRESSION_RELATIVE_TOLERANCE * Math.max(Math.abs(s), spread);
  }).length;
  const edges = decileEdges(stable);
  return {
    candidateErrors: candidate.length - answered.length,
    agreement: stable.length > 0 ? agreed / stable.length : null,
    agreementRule: REGRESSION_AGREEMENT_RULE,
    outputShiftPsi: stable.length > 0 && answered.length > 0 ? outputShiftPsi(regressionHistogram(stable, edges), regressionHistogram(answered, edges)) : null,
  };
}

function standardDeviation(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length);
}

export interface SimulationMeasurements extends ReplayComparison {
  requests: number;
  candidateP99LatencyMs: number | null;
}

/**
 * Holds the replay to its pass marks. It fails with nothing replayed (a twin that saw no traffic proves nothing),
 * with any request the candidate could not answer, agreement below the minimum, shift or p99 above the maximum.
 */
export function judgeSimulation(
  measured: SimulationMeasurements,
  given: SimulationThresholds = {},
): Pick<RolloutSimulationReport, 'thresholds' | 'passed' | 'failures'> {
  const thresholds = {
    minAgreement: given.minAgreement ?? DEFAULT_SIMULATION_THRESHOLDS.minAgreement,
    maxShiftPsi: given.maxShiftPsi ?? DEFAULT_SIMULATION_THRESHOLDS.maxShiftPsi,
    maxP99LatencyMs: given.maxP99LatencyMs ?? null,
  };
  const failures: SimulationFailure[] = [];
  if (measured.requests === 0) {
    failures.push({ check: 'requests', value: 0, threshold: 1, message: 'The prediction log holds no answered stable request on this endpoint to replay; send traffic to the stable version first.' });
  }
  if (measured.candidateErrors > 0) {
    failures.push({
      check: 'candidateErrors',
      value: measured.candidateErrors,
      threshold: 0,
      message: `The candidate could not answer ${measured.candidateErrors} of ${measured.requests} replayed requests (a feature it needs was missing, or an output was not a finite number).`,
    });
  }
  if (measured.agreement !== null && measured.agreement < thresholds.minAgreement) {
    failures.push({
      check: 'agreement',
      value: measured.agreement,
      threshold: thresholds.minAgreement,
      message: `The candidate agreed with stable (${measured.agreementRule}) on ${percent(measured.agreement)} of replayed requests; at least ${percent(thresholds.minAgreement)} is required.`,
    });
  }
  if (measured.outputShiftPsi !== null && measured.outputShiftPsi > thresholds.maxShiftPsi) {
    failures.push({
      check: 'outputShiftPsi',
      value: measured.outputShiftPsi,
      threshold: thresholds.maxShiftPsi,
      message: `The candidate's outputs shifted from stable's by PSI ${measured.outputShiftPsi.toFixed(3)}, over the maximum of ${thresholds.maxShiftPsi}.`,
    });
  }
  if (thresholds.maxP99LatencyMs !== null && measured.candidateP99LatencyMs !== null && measured.candidateP99LatencyMs > thresholds.maxP99LatencyMs) {
    failures.push({
      check: 'p99LatencyMs',
      value: measured.candidateP99LatencyMs,
      threshold: thresholds.maxP99LatencyMs,
      message: `The candidate's one-row p99 latency was ${measured.candidateP99LatencyMs.toFixed(1)} ms, over the maximum of ${thresholds.maxP99LatencyMs} ms.`,
    });
  }
  return { thresholds, passed: failures.length === 0, failures };
}

function percent(share: number): string {
  return `${(share * 100).toFixed(1)} %`;
}
