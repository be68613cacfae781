/** Traffic routes of an endpoint: the stable version, a canary taking a share, a shadow getting a copy. */
export type TrafficRoute = 'stable' | 'canary' | 'shadow';

/**
 * Health gates of a rollout step, evaluated over the step's bake window from the prediction log. Every
 * threshold is optional; a canary or linear rollout needs at least one.
 */
export interface RolloutGates {
  /** Largest share of the candidate's predictions that may fail (0..1). */
  errorRate?: number;
  /** Largest 99th-percentile latency of the candidate, in milliseconds. */
  p99LatencyMs?: number;
  /** Largest population stability index between the candidate's and stable's output distributions. */
  predictionShiftPsi?: number;
  /** Smallest accuracy of the candidate on predictions that have feedback labels (classification). */
  minAccuracy?: number;
  /** Fewest candidate predictions a window needs before its readings count (default DEFAULT_MIN_REQUESTS); with fewer, nothing is judged and nothing passes. */
  minRequests?: number;
  /** What a step does when its bake (and every extension) ends without enough data: roll back (default), or promote and say so. */
  onInsufficientTraffic?: 'rollback' | 'promote';
  /** How long a step's bake may be extended, in total, waiting for enough data (default DEFAULT_MAX_BAKE_EXTENSION_SECONDS). */
  maxBakeExtensionSeconds?: number;
  /** How often gates are read during a bake (default DEFAULT_GATE_INTERVAL_SECONDS); a breach rolls back at once. */
  gateIntervalSeconds?: number;
}

/** Candidate predictions a step's window needs before its gates are judged, unless the rollout says otherwise. */
export const DEFAULT_MIN_REQUESTS = 50;
/** How long a step waits, beyond its bake, for enough data before it gives up. */
export const DEFAULT_MAX_BAKE_EXTENSION_SECONDS = 3600;
/** How often gates are read while a step bakes. */
export const DEFAULT_GATE_INTERVAL_SECONDS = 30;

export type GateName = 'errorRate' | 'p99LatencyMs' | 'predictionShiftPsi' | 'minAccuracy';

/** One gate's reading over a window: the value measured, the threshold it was held to, and on how many predictions. */
export interface GateReading {
  gate: GateName;
  threshold: number;
  /** null when the window had no data for it (no traffic, no labels). */
  value: number | null;
  samples: number;
  /** Judged and within its threshold; a gate with no reading, or on too few predictions, has not passed. */
  passed: boolean;
}

/** What an endpoint row carries of its running (or last) rollout, for the data plane's gauges and GET /v1/endpoints/{name}. */
export interface EndpointRolloutSummary {
  rolloutId: string;
  workflowId: string;
  status: 'running' | 'paused' | 'succeeded' | 'rolled_back' | 'aborted' | 'failed';
  strategy: 'canary' | 'linear' | 'allAtOnce' | 'shadow';
  /** 0-based index of the current step, and how many there are. */
  step: number;
  steps: number;
  candidateVersionId: string;
  updatedAt: string;
}
