import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import type { ControllerState, DeployRequest, RolloutStrategy } from '../../workflows/contracts';
import { checkDeploy, checkStrategy, planRollout } from '../../workflows/endpoint-controller-plan';

const typeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return err instanceof ApplicationFailure ? (err.type ?? undefined) : 'not an ApplicationFailure';
  }
  return undefined;
};

describe('rollout plans', () => {
  it('turns each strategy into steps with the candidate weight and bake', () => {
    expect(planRollout({ type: 'linear', steps: 3, bakeSeconds: 2 }).map((s) => [s.weight, s.bakeMs])).toEqual([
      [33, 2000],
      [67, 2000],
      [100, 2000],
    ]);
    expect(planRollout({ type: 'allAtOnce' })).toEqual([{ route: 'canary', weight: 100, bakeMs: 0 }]);
    expect(planRollout({ type: 'shadow', bakeSeconds: 5 }).map((s) => s.route)).toEqual(['shadow', 'canary']);
    expect(planRollout({ type: 'shadow', bakeSeconds: 5, promote: false }).map((s) => s.route)).toEqual(['shadow']);
  });

  it('refuses canary steps that do not rise to 100 %', () => {
    const bad: RolloutStrategy[] = [
      { type: 'canary', steps: [] },
      { type: 'canary', steps: [{ weight: 50, bakeSeconds: 1 }] },
      { type: 'canary', steps: [{ weight: 50, bakeSeconds: 1 }, { weight: 50, bakeSeconds: 1 }, { weight: 100, bakeSeconds: 0 }] },
      { type: 'canary', steps: [{ weight: 10, bakeSeconds: -1 }, { weight: 100, bakeSeconds: 0 }] },
      { type: 'linear', steps: 0, bakeSeconds: 1 },
      { type: 'sideways' } as unknown as RolloutStrategy,
    ];
    for (const strategy of bad) expect(typeOf(() => planRollout(strategy)), JSON.stringify(strategy)).toBe('invalid_rollout_strategy');
  });

  it('refuses a second rollout, a canary without gates, and a canary with nothing stable', () => {
    const v1 = { versionId: 'mv1', model: 'm', version: 1 };
    const v2 = { versionId: 'mv2', model: 'm', version: 2 };
    const state: ControllerState = { projectId: 'p', endpointName: 'e', endpointId: 'ep', stable: v1, canary: null, shadow: null, rollout: null, lastGood: [], rolledBack: false, history: [], changeSeq: 0 };
    const canary: DeployRequest = { rolloutId: 'r', candidate: v2, strategy: { type: 'canary', steps: [{ weight: 100, bakeSeconds: 0 }] }, gates: { errorRate: 0.1 }, reason: 'x', requestedBy: 'k' };
    expect(typeOf(() => checkDeploy(state, canary, false))).toBeUndefined();
    expect(typeOf(() => checkDeploy(state, { ...canary, gates: { minRequests: 10 } }, false))).toBe('rollout_gates_required');
    expect(typeOf(() => checkDeploy({ ...state, stable: null }, canary, false))).toBe('no_stable_version');
    expect(typeOf(() => checkDeploy(state, { ...canary, candidate: v1 }, false))).toBe('candidate_already_stable');
    expect(typeOf(() => checkDeploy(state, canary, true))).toBe('rollout_in_progress');
  });

  it('refuses gate settings a rollout cannot run with, and accepts the fail-closed knobs', () => {
    const strategy: RolloutStrategy = { type: 'canary', steps: [{ weight: 10, bakeSeconds: 60 }, { weight: 100, bakeSeconds: 0 }] };
    const check = (gates: Record<string, unknown>) => typeOf(() => checkStrategy({ strategy, gates: { errorRate: 0.1, ...gates } }));
    expect(check({ gateIntervalSeconds: 0 })).toBe('invalid_rollout_strategy');
    expect(check({ maxBakeExtensionSeconds: -1 })).toBe('invalid_rollout_strategy');
    expect(check({ onInsufficientTraffic: 'shrug' })).toBe('invalid_rollout_strategy');
    expect(check({ minRequests: 1.5 })).toBe('invalid_rollout_strategy');
    expect(check({ gateIntervalSeconds: 1, maxBakeExtensionSeconds: 0, onInsufficientTraffic: 'promote', minRequests: 0 })).toBeUndefined();
  });
});
