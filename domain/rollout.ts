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
  /** Fewest candidate predictions a window needs before its readings count; with fewer, gates pass and say so. */
  minRequests?: number;
}

export type GateName = 'errorRate' | 'p99LatencyMs' | 'predictionShiftPsi' | 'minAccuracy';

/** One gate's reading over a window: the value measured, the threshold it was held to, and on how many predictions. */
export interface GateReading {
  gate: GateName;
  threshold: number;
  /** null when the window had no data for it (no traffic, no labels). */
  value: number | null;
  samples: number;
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
