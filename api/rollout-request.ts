import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { UserError, type UserErrorStatus } from '../platform/user-error';
import { RolloutRefusal, type PipelineRollout, type PlannedStep, type RolloutStrategy } from '../workflows/contracts';
import { checkStrategy } from '../workflows/endpoint-controller-plan';

const bakeSeconds = z.number().min(0).max(7 * 24 * 3600);

/** How a rollout goes, as POST /v1/endpoints/{name}/rollouts and the `rollout` of POST /v1/pipelines both take it. */
export const rolloutStrategyFields = {
  strategy: z.enum(['canary', 'linear', 'allAtOnce', 'shadow']),
  steps: z.union([z.array(z.object({ weight: z.number().int().min(1).max(100), bakeSeconds }).strict()).min(1).max(20), z.number().int().min(1).max(100)]).optional(),
  bakeSeconds: bakeSeconds.optional(),
  promote: z.boolean().optional(),
  gates: z
    .object({
      errorRate: z.number().min(0).max(1).optional(),
      p99LatencyMs: z.number().positive().optional(),
      predictionShiftPsi: z.number().positive().optional(),
      minAccuracy: z.number().min(0).max(1).optional(),
      minRequests: z.number().int().min(0).optional(),
      onInsufficientTraffic: z.enum(['rollback', 'promote']).optional(),
      maxBakeExtensionSeconds: bakeSeconds.optional(),
      gateIntervalSeconds: z.number().min(0.1).max(24 * 3600).optional(),
    })
    .strict()
    .optional(),
  simulate: z
    .object({
      minAgreement: z.number().min(0).max(1).optional(),
      maxShiftPsi: z.number().positive().optional(),
      maxP99LatencyMs: z.number().positive().optional(),
      requests: z.number().int().min(1).max(10_000).optional(),
    })
    .strict()
    .optional(),
};

/** The `rollout` field of a pipeline request: the same fields, without the candidate (the pipeline's own version). */
export const rolloutStrategyRequest = z.object(rolloutStrategyFields).strict();
export type RolloutStrategyRequest = z.infer<typeof rolloutStrategyRequest>;

/** Refusals of the controller's validators, as the HTTP status each stands for. */
const REFUSAL_STATUS: Record<string, UserErrorStatus> = {
  [RolloutRefusal.InProgress]: 409,
  [RolloutRefusal.AlreadyStable]: 409,
  [RolloutRefusal.NoRollout]: 409,
  [RolloutRefusal.NotPaused]: 409,
  [RolloutRefusal.NotRunning]: 409,
  [RolloutRefusal.GatesRequired]: 422,
  [RolloutRefusal.NoStableVersion]: 422,
  [RolloutRefusal.InvalidStrategy]: 422,
};

/** The request's strategy fields as the controller's strategy; a field that does not belong is named (under `prefix`, e.g. `rollout.`). */
export function strategyOf(body: RolloutStrategyRequest, prefix = ''): RolloutStrategy {
  const fieldError = (field: string, why: string): never => {
    throw new UserError('invalid_request', `${prefix}${field}: ${why}.`, 422, { field: `${prefix}${field}` });
  };
  switch (body.strategy) {
    case 'canary':
      if (!Array.isArray(body.steps)) return fieldError('steps', 'a canary takes a list of steps such as [{"weight": 10, "bakeSeconds": 300}, {"weight": 100, "bakeSeconds": 0}]');
      return { type: 'canary', steps: body.steps };
    case 'linear':
      if (typeof body.steps !== 'number') return fieldError('steps', 'a linear rollout takes the number of equal steps, e.g. 4');
      if (body.bakeSeconds === undefined) return fieldError('bakeSeconds', 'a linear rollout needs the bake time of each step');
      return { type: 'linear', steps: body.steps, bakeSeconds: body.bakeSeconds };
    case 'allAtOnce':
      if (body.steps !== undefined) return fieldError('steps', 'allAtOnce has no steps; drop the field');
      return { type: 'allAtOnce', ...(body.bakeSeconds !== undefined && { bakeSeconds: body.bakeSeconds }) };
    case 'shadow':
      if (body.steps !== undefined) return fieldError('steps', 'a shadow rollout has no steps; give bakeSeconds');
      if (body.bakeSeconds === undefined) return fieldError('bakeSeconds', 'a shadow rollout needs how long the candidate shadows stable traffic');
      return { type: 'shadow', bakeSeconds: body.bakeSeconds, ...(body.promote !== undefined && { promote: body.promote }) };
  }
}

/** The controller's own checks of a strategy and its gates (a canary without gates is refused), run here first so a bad request never reaches a workflow. */
export function checkedRollout(strategy: RolloutStrategy, gates: RolloutStrategyRequest['gates']): PlannedStep[] {
  try {
    return checkStrategy({ strategy, ...(gates && { gates }) });
  } catch (err) {
    throw refusal(err);
  }
}

/** A pipeline's `rollout` as the pipeline input carries it, checked as the rollouts API checks it. */
export function pipelineRolloutOf(body: RolloutStrategyRequest): PipelineRollout {
  const strategy = strategyOf(body, 'rollout.');
  checkedRollout(strategy, body.gates);
  return { strategy, ...(body.gates && { gates: body.gates }), ...(body.simulate && { simulate: body.simulate }) };
}

/** A controller refusal (validator or handler) as the 4xx it stands for. */
export function refusal(err: unknown): unknown {
  const failure = err instanceof WorkflowUpdateFailedError ? err.cause : err;
  if (failure instanceof ApplicationFailure && failure.type && failure.type in REFUSAL_STATUS) {
    const raw = (failure.details?.[0] ?? {}) as Record<string, unknown>;
    const details = Object.fromEntries(Object.entries(raw).filter((e): e is [string, string | number] => typeof e[1] === 'string' || typeof e[1] === 'number'));
    return new UserError(failure.type, failure.message, REFUSAL_STATUS[failure.type], details);
  }
  return err;
}
