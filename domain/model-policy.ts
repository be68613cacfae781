import type { Threshold } from './model';
import type { RolloutGates } from './rollout';

/** How a blessed candidate is promoted: thresholds decide the blessing, then an optional human approval. */
export interface PromotionPolicy {
  thresholds: Threshold[];
  requireApproval: boolean;
  /** No decision within this many milliseconds means reject. */
  approvalTimeoutMs: number;
  /** Infra-validation's budget for the p99 latency of one-row calls; absent means the default (50 ms). */
  latencyBudgetMs?: number;
}

/** A fairness check on a binary classifier (pipeline body `fairness`). */
export interface FairnessRequest {
  /** A string column of the dataset; it need not be a feature. */
  sensitive: string;
  /** The favourable class; defaults to the second class (classes[1]). */
  favorable?: string;
  /** The privileged group: groups are also compared with it (AIF360 style). */
  privileged?: string;
}

/** One canary step: the candidate's share of traffic (percent) and how long it bakes there before the gates are read. */
export interface CanaryStep {
  weight: number;
  bakeSeconds: number;
}

/** How the candidate reaches 100 %. */
export type RolloutStrategy =
  /** Explicit steps with increasing weights, the last at 100. */
  | { type: 'canary'; steps: CanaryStep[] }
  /** `steps` equal steps up to 100, each baking `bakeSeconds`. */
  | { type: 'linear'; steps: number; bakeSeconds: number }
  /** Straight to 100 %; an optional bake (with gates, when given) after it. */
  | { type: 'allAtOnce'; bakeSeconds?: number }
  /** The candidate gets a copy of traffic (answers logged, never returned) for the bake; then, unless `promote` is false, 100 %. */
  | { type: 'shadow'; bakeSeconds: number; promote?: boolean };

/** The offline replay a rollout must pass before its first step (the digital twin). */
export interface SimulationRequirement {
  /** Smallest share of replayed requests on which candidate and stable agree (0..1). */
  minAgreement?: number;
  /** Largest population stability index between their output distributions. */
  maxShiftPsi?: number;
  /** Largest p99 latency of the candidate over the replay, in milliseconds. */
  maxP99LatencyMs?: number;
  /** How many recorded requests to replay (most recent first). */
  requests?: number;
}

/** How a pipeline rolls its blessed version out: the strategy, gates and simulation of the rollouts API. */
export interface PipelineRollout {
  strategy: RolloutStrategy;
  gates?: RolloutGates;
  simulate?: SimulationRequirement;
}

/**
 * A registered model's promotion and rollout policy, as data: stored per model (and overridable per endpoint) when a
 * pipeline sets it or an admin PUTs it, versioned and audited, and read from there by every retrain — never from an old
 * workflow history, which Temporal's retention drops.
 */
export interface ModelPolicy {
  /** Thresholds and the approval rule; null: bless on the floors only and promote without approval. */
  promotion: PromotionPolicy | null;
  /** How new versions roll out; null: all at once. */
  rollout: PipelineRollout | null;
  /** String columns the evaluation is sliced by. */
  slices: string[];
  fairness: FairnessRequest | null;
}

/** Which stored policy applied: the endpoint's own, the model's, or none (nothing was ever set). */
export type ModelPolicySource = 'endpoint' | 'model' | 'none';

export interface EffectiveModelPolicy {
  policy: ModelPolicy;
  source: ModelPolicySource;
  /** The version of the stored policy that applied (1-based, per model and scope); null when none was stored. */
  version: number | null;
}

export const EMPTY_MODEL_POLICY: ModelPolicy = { promotion: null, rollout: null, slices: [], fairness: null };

/** The fields of a policy a request sets that differ from the policy in force (key order and undefined fields aside). */
export function differingPolicyFields(set: Partial<ModelPolicy>, inForce: ModelPolicy): (keyof ModelPolicy)[] {
  return (Object.keys(set) as (keyof ModelPolicy)[]).filter((field) => set[field] !== undefined && canonicalJson(set[field]) !== canonicalJson(inForce[field]));
}

/** JSON with object keys sorted (jsonb keeps no key order), so equal policies compare equal. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries.sort(([x], [y]) => (x < y ? -1 : 1)).map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
