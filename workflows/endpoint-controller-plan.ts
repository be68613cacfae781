import { ApplicationFailure } from '@temporalio/workflow';
import type { RolloutGates } from '../domain/rollout';
import { ACTIVE_ROLLOUT_STATUSES, RolloutRefusal, type ControllerState, type DeployRequest, type PlannedStep, type RolloutState, type RolloutStrategy, type RolloutStatus } from './contracts';

export function isActive(status: RolloutStatus): boolean {
  return ACTIVE_ROLLOUT_STATUSES.includes(status);
}

export function refuse(type: string, message: string, details: Record<string, unknown> = {}): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true, details: [details] });
}

/** Whether any health gate has a threshold (minRequests alone gates nothing). */
export function hasGates(gates: RolloutGates | undefined | null): boolean {
  return !!gates && (['errorRate', 'p99LatencyMs', 'predictionShiftPsi', 'minAccuracy'] as const).some((g) => typeof gates[g] === 'number');
}

const isWhole = (n: unknown, min: number, max: number): n is number => typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max;
const isBake = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0 && n <= 7 * 24 * 3600;

/** The steps a strategy takes, each with where the candidate sits and how long it bakes; refuses a malformed one. */
export function planRollout(strategy: RolloutStrategy): PlannedStep[] {
  const invalid = (why: string): never => {
    throw refuse(RolloutRefusal.InvalidStrategy, `The ${String((strategy as { type?: unknown }).type)} strategy is invalid: ${why}.`, { field: 'strategy' });
  };
  switch (strategy?.type) {
    case 'canary': {
      const steps = Array.isArray(strategy.steps) ? strategy.steps : invalid('steps must be a list');
      if (steps.length === 0 || steps.length > 20) invalid('give between 1 and 20 steps');
      let previous = 0;
      return steps.map((s, i) => {
        if (!isWhole(s?.weight, 1, 100) || s.weight <= previous) invalid(`steps[${i}].weight must be a whole percent above the step before (${previous})`);
        if (!isBake(s.bakeSeconds)) invalid(`steps[${i}].bakeSeconds must be between 0 and 604800`);
        if (i === steps.length - 1 && s.weight !== 100) invalid('the last step must take 100 % of traffic');
        previous = s.weight;
        return { route: 'canary' as const, weight: s.weight, bakeMs: Math.round(s.bakeSeconds * 1000) };
      });
    }
    case 'linear': {
      if (!isWhole(strategy.steps, 1, 100)) invalid('steps must be a whole number from 1 to 100');
      if (!isBake(strategy.bakeSeconds)) invalid('bakeSeconds must be between 0 and 604800');
      const n = strategy.steps;
      return Array.from({ length: n }, (_, i) => ({ route: 'canary' as const, weight: Math.round((100 * (i + 1)) / n), bakeMs: Math.round(strategy.bakeSeconds * 1000) }));
    }
    case 'allAtOnce': {
      const bake = strategy.bakeSeconds ?? 0;
      if (!isBake(bake)) invalid('bakeSeconds must be between 0 and 604800');
      return [{ route: 'canary', weight: 100, bakeMs: Math.round(bake * 1000) }];
    }
    case 'shadow': {
      if (!isBake(strategy.bakeSeconds)) invalid('bakeSeconds must be between 0 and 604800');
      const shadow: PlannedStep = { route: 'shadow', weight: 0, bakeMs: Math.round(strategy.bakeSeconds * 1000) };
      return strategy.promote === false ? [shadow] : [shadow, { route: 'canary', weight: 100, bakeMs: 0 }];
    }
    default:
      return invalid('use canary, linear, allAtOnce or shadow');
  }
}

/** Refuses a malformed strategy, and a canary or linear rollout without gates, whatever the endpoint's state (the pipeline API checks this up front too). */
export function checkStrategy(request: Pick<DeployRequest, 'strategy' | 'gates'>): PlannedStep[] {
  const plan = planRollout(request.strategy);
  const type = request.strategy.type;
  checkGateSettings(request.gates);
  if ((type === 'canary' || type === 'linear') && !hasGates(request.gates)) {
    throw refuse(
      RolloutRefusal.GatesRequired,
      `A ${type} rollout needs at least one gate (errorRate, p99LatencyMs, predictionShiftPsi or minAccuracy) to decide whether to go on; add "gates", or use allAtOnce.`,
      { field: 'gates' },
    );
  }
  return plan;
}

/** Refuses gate settings a rollout cannot run with (a zero interval would read gates in a tight loop). */
function checkGateSettings(gates: RolloutGates | undefined): void {
  if (!gates) return;
  const invalid = (field: string, why: string): never => {
    throw refuse(RolloutRefusal.InvalidStrategy, `gates.${field} ${why}.`, { field: `gates.${field}` });
  };
  const { gateIntervalSeconds: interval, maxBakeExtensionSeconds: extension, onInsufficientTraffic: onShort, minRequests } = gates;
  if (interval !== undefined && !(typeof interval === 'number' && Number.isFinite(interval) && interval >= 0.1 && interval <= 24 * 3600)) invalid('gateIntervalSeconds', 'must be between 0.1 and 86400');
  if (extension !== undefined && !isBake(extension)) invalid('maxBakeExtensionSeconds', 'must be between 0 and 604800');
  if (onShort !== undefined && onShort !== 'rollback' && onShort !== 'promote') invalid('onInsufficientTraffic', 'must be "rollback" or "promote"');
  if (minRequests !== undefined && !isWhole(minRequests, 0, Number.MAX_SAFE_INTEGER)) invalid('minRequests', 'must be a whole number of at least 0');
}

/** Refuses a deploy the endpoint cannot take now; the same checks run in the validator and, once the state is loaded, in the handler. */
export function checkDeploy(state: ControllerState, request: DeployRequest, rollbackInFlight: boolean): void {
  const running = state.rollout;
  if (running && isActive(running.status)) {
    const { candidate } = running;
    throw refuse(
      RolloutRefusal.InProgress,
      `Rollout ${running.rolloutId} of ${candidate.model} v${candidate.version} is ${running.status} on endpoint ${state.endpointName} (step ${running.step + 1} of ${running.plan.length}); abort it or wait for it to finish, then try again.`,
      { rolloutId: running.rolloutId, candidate: `${candidate.model} v${candidate.version}`, step: running.step + 1, steps: running.plan.length, status: running.status },
    );
  }
  if (rollbackInFlight) throw refuse(RolloutRefusal.InProgress, `A rollback of endpoint ${state.endpointName} is being applied; try again in a moment.`);
  checkStrategy(request);
  const type = request.strategy.type;
  if (type !== 'allAtOnce' && !state.stable) {
    throw refuse(RolloutRefusal.NoStableVersion, `Endpoint ${state.endpointName} has no stable version to compare a ${type} candidate with; deploy one with the allAtOnce strategy first.`, {
      field: 'strategy',
    });
  }
  if (type !== 'allAtOnce' && state.stable?.versionId === request.candidate.versionId) {
    throw refuse(RolloutRefusal.AlreadyStable, `${request.candidate.model} v${request.candidate.version} is already the stable version of endpoint ${state.endpointName}.`, { field: 'version' });
  }
}

/** A rollout as accepted, before its first step. */
export function newRollout(state: ControllerState, request: DeployRequest, now: string): RolloutState {
  return {
    rolloutId: request.rolloutId,
    candidate: request.candidate,
    baseline: state.stable,
    strategy: request.strategy,
    plan: planRollout(request.strategy),
    gates: request.gates ?? null,
    simulate: request.simulate ?? null,
    status: 'pending',
    step: 0,
    appliedSteps: 0,
    stepStartedAt: null,
    bakeEndsAt: null,
    remainingBakeMs: null,
    readings: [],
    breached: null,
    simulation: null,
    outcome: null,
    failure: null,
    control: null,
    pausedBy: null,
    reason: request.reason,
    requestedBy: request.requestedBy,
    moveProductionAlias: request.moveProductionAlias === true,
    startedAt: now,
    finishedAt: null,
  };
}
