import { z } from 'zod';
import type { ColumnSchema, ColumnStats } from '../domain/dataset';
import type { TaskChoice } from '../domain/model';
import type { FairnessRequest, ModelPolicy, PipelineRollout, PromotionPolicy } from '../domain/model-policy';
import { checkEvaluationRequest, evaluationRequestFields } from './evaluation-options';
import { pipelineRolloutOf, rolloutStrategyRequest } from './rollout-request';
import { UserError } from '../platform/user-error';

/** The policy fields of POST /v1/pipelines, which PUT /v1/models/{name}/policy takes in the same shapes. */
export const policyRequestFields = { ...evaluationRequestFields, rollout: rolloutStrategyRequest.optional() };

/** PUT /v1/models/{name}/policy: the whole policy (a field left out or null is cleared, as GET shows it) and why it changes. */
export const modelPolicyRequest = z.preprocess(
  (body) => (body && typeof body === 'object' && !Array.isArray(body) ? Object.fromEntries(Object.entries(body).filter(([, v]) => v !== null)) : body),
  z.object({ ...policyRequestFields, reason: z.string().trim().min(1, 'say why the policy changes').max(500) }).strict(),
);

type PolicyBody = z.infer<z.ZodObject<typeof policyRequestFields>>;

/** What the policy is checked against: the dataset columns (slices, fairness) and the task (thresholds) its versions train on. */
export interface PolicyContext {
  schema: ColumnSchema[];
  task: TaskChoice;
  targetStats?: ColumnStats;
}

/** The policy fields a request set (absent: not set). */
export interface PolicyFields {
  promotion?: PromotionPolicy;
  rollout?: PipelineRollout;
  slices?: string[];
  fairness?: FairnessRequest;
}

/** The policy fields a request sets, checked as POST /v1/pipelines always checked them (422 with the same codes). */
export function policyFieldsOf(body: PolicyBody, context: PolicyContext): PolicyFields {
  const rollout = body.rollout && pipelineRolloutOf(body.rollout);
  const evaluation = checkEvaluationRequest(context.schema, context.task, body, context.targetStats);
  return {
    ...(evaluation.promotion && { promotion: evaluation.promotion }),
    ...(rollout && { rollout }),
    ...(evaluation.slices && { slices: evaluation.slices }),
    ...(evaluation.fairness && { fairness: evaluation.fairness }),
  };
}

/** A stored policy field a pipeline left out but could not follow on its dataset version, and why. */
export interface PolicyFieldNotApplied {
  field: 'slices' | 'fairness';
  reason: string;
}

/**
 * The policy a pipeline runs with: the fields its body sets, and for each it leaves out, the stored policy in force.
 * Stored slices and fairness apply only where this dataset version and task allow them (checked as a body's would be);
 * the others are left out of this run and named, so a retrain on a narrower dataset still runs under its promotion rules.
 */
export function followStoredPolicy(set: PolicyFields, stored: ModelPolicy, context: PolicyContext): { fields: PolicyFields; fromStored: (keyof PolicyFields)[]; notApplied: PolicyFieldNotApplied[] } {
  const notApplied: PolicyFieldNotApplied[] = [];
  const applicable = (check: () => unknown, field: PolicyFieldNotApplied['field']): boolean => {
    const why = refusal(check);
    if (why) notApplied.push({ field, reason: why });
    return why === null;
  };
  const slices = set.slices ? [] : stored.slices.filter((column) => applicable(() => checkEvaluationRequest(context.schema, context.task, { slices: [column] }), 'slices'));
  const { fairness } = stored;
  const followed: PolicyFields = {
    ...(!set.promotion && stored.promotion && { promotion: stored.promotion }),
    ...(!set.rollout && stored.rollout && { rollout: stored.rollout }),
    ...(slices.length > 0 && { slices }),
    ...(!set.fairness && fairness && applicable(() => checkEvaluationRequest(context.schema, context.task, { fairness }, context.targetStats), 'fairness') && { fairness }),
  };
  const fields: PolicyFields = { ...followed, ...set };
  const fromStored = Object.keys(followed) as (keyof PolicyFields)[];
  return { fields, fromStored, notApplied };
}

/** The sentence a check refuses with, or null when it passes. */
function refusal(check: () => unknown): string | null {
  try {
    check();
    return null;
  } catch (err) {
    if (err instanceof UserError) return err.message;
    throw err;
  }
}

/** A PUT body as the whole policy it stands for: every field it leaves out is cleared. */
export function wholePolicyOf(body: PolicyBody, context: PolicyContext): ModelPolicy {
  return { promotion: null, rollout: null, slices: [], fairness: null, ...policyFieldsOf(body, context) };
}

/** A stored policy in the request's shapes, so what GET answers can be sent back with PUT. */
export function policyView(policy: ModelPolicy) {
  const { promotion } = policy;
  return {
    promotion: promotion && {
      thresholds: promotion.thresholds,
      requireApproval: promotion.requireApproval,
      approvalTimeout: durationText(promotion.approvalTimeoutMs),
      ...(promotion.latencyBudgetMs !== undefined && { latencyBudgetMs: promotion.latencyBudgetMs }),
    },
    rollout: policy.rollout && rolloutView(policy.rollout),
    slices: policy.slices,
    fairness: policy.fairness,
  };
}

function rolloutView({ strategy, gates, simulate }: PipelineRollout) {
  const { type, ...fields } = strategy;
  return { strategy: type, ...fields, ...(gates && { gates }), ...(simulate && { simulate }) };
}

/** Milliseconds in the largest unit that divides them ("24h", "90s"), as parseDuration reads them back. */
function durationText(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000]] as const) if (ms > 0 && ms % size === 0) return `${ms / size}${unit}`;
  return `${Math.round(ms / 1000)}s`;
}
