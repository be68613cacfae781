import type { ExpectedRoutes, ServingLoadFailure } from './serving-agreement';
import type { GateReading, RolloutGates } from './rollout';

/** One bake window of a rollout step: the candidate's rows on its route against stable's rows on the same endpoint and window. */
export interface EvaluateRolloutGatesInput {
  projectId: string;
  endpointId: string;
  candidateVersionId: string;
  /** The version the candidate is compared with; null when there is none (the first deploy of an endpoint). */
  stableVersionId: string | null;
  /** The route the candidate's rows were logged on ('stable' once it takes all traffic at a last baked step). */
  route: 'stable' | 'canary' | 'shadow';
  /** ISO timestamps, [from, to). */
  from: string;
  to: string;
  /** Where stable's window starts when it is not `from`: a last step at 100 % compares with stable's rows since the rollout began. */
  stableFrom?: string;
  /** What each route should serve: a live server that reports it could not load one of these is named in the result. */
  expectedServing?: ExpectedRoutes;
  gates: RolloutGates;
}

export interface RolloutGatesResult {
  /** One reading per configured gate, in the fixed order errorRate, p99LatencyMs, predictionShiftPsi, minAccuracy. */
  readings: GateReading[];
  /** The first breached gate in that order, or null. */
  breached: GateReading | null;
  /** Predictions in the window: the candidate's on its route, stable's on the stable route. */
  window: { candidate: number; stable: number };
  /** The candidate had fewer predictions than `gates.minRequests`: nothing was judged. */
  belowMinRequests: boolean;
  /** Why the window cannot pass yet (too few predictions, a gate with no reading), or null when every gate was judged. */
  insufficient: string | null;
  /** One sentence for the rollout's history. */
  summary: string;
  /** A live server that could not load a version of `expectedServing` (a server that began serving mid-bake), or null. */
  servingLoadFailure?: ServingLoadFailure | null;
}

/** Pass marks of the digital twin; see DEFAULT_SIMULATION_THRESHOLDS for what applies when one is left out. */
export interface SimulationThresholds {
  /** Smallest share of replayed requests on which the candidate must agree with stable (0..1). */
  minAgreement?: number;
  /** Largest PSI between the candidate's and stable's outputs on the replayed requests. */
  maxShiftPsi?: number;
  /** Largest p99 of the candidate's one-row calls, in ms; unchecked when absent. */
  maxP99LatencyMs?: number;
}

export const DEFAULT_SIMULATION_THRESHOLDS = { minAgreement: 0.9, maxShiftPsi: 0.2 } as const;

/** Replays recorded stable requests offline on stable and candidate; rows never leave the activity. */
export interface SimulateRolloutInput {
  projectId: string;
  endpointId: string;
  candidateVersionId: string;
  stableVersionId: string;
  /** How many of the newest answered stable requests to replay (default 1000, at most 10 000). */
  requests?: number;
  thresholds?: SimulationThresholds;
}

export type SimulationCheck = 'requests' | 'candidateErrors' | 'agreement' | 'outputShiftPsi' | 'p99LatencyMs';

export interface SimulationFailure {
  check: SimulationCheck;
  value: number | null;
  threshold: number | null;
  message: string;
}

export interface LatencySummary {
  p50: number | null;
  p99: number | null;
  /** One-row calls timed. */
  samples: number;
}

export interface RolloutSimulationReport {
  /** Recorded requests replayed (fewer than asked when the log holds fewer). */
  requests: number;
  /** Replayed requests the candidate could not answer: a feature it needs was missing, or an output was not finite. */
  candidateErrors: number;
  /** Share of replayed requests where the candidate agreed with stable (see `agreementRule`); null with none replayed. */
  agreement: number | null;
  agreementRule: string;
  outputShiftPsi: number | null;
  candidateLatencyMs: LatencySummary;
  stableLatencyMs: LatencySummary;
  thresholds: { minAgreement: number; maxShiftPsi: number; maxP99LatencyMs: number | null };
  passed: boolean;
  failures: SimulationFailure[];
}
