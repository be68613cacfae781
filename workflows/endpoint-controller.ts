import { ActivityFailure, allHandlersFinished, condition, continueAsNew, log, patched, proxyActivities, setCurrentDetails, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { DEFAULT_GATE_INTERVAL_SECONDS, DEFAULT_MAX_BAKE_EXTENSION_SECONDS, type EndpointRolloutSummary, type GateReading } from '../domain/rollout';
import type { RolloutGatesResult } from '../domain/rollout-evaluation';
import type { ExpectedRoutes, ServingLoadFailure } from '../domain/serving-agreement';
import { databaseActivityOptions } from './activity-options';
import {
  abortUpdate,
  deployUpdate,
  endpointStatusQuery,
  GATES_FAIL_CLOSED,
  pauseUpdate,
  promoteNowUpdate,
  resumeUpdate,
  rollbackUpdate,
  rolloutOutcomeUpdate,
  RolloutFailure,
  RolloutRefusal,
  type ActionRequest,
  type ControllerActionResult,
  type ControllerState,
  type DeployAccepted,
  type DeployRequest,
  type EndpointControllerInput,
  type RolloutState,
  type TrafficChangeKind,
  type VersionRef,
} from './contracts';
import { checkDeploy, hasGates, isActive, newRollout, refuse } from './endpoint-controller-plan';

const { readEndpointTraffic, applyTrafficChange, recordRolloutSummary } = proxyActivities<Activities>(databaseActivityOptions);

/** Pauses and resumes are written to the endpoint row (histories from before replay without those activities). */
const RECORD_PAUSE_ON_ENDPOINT = 'record-pause-on-endpoint';
/** Aggregates over a step's window of the prediction log. */
const { evaluateRolloutGates } = proxyActivities<Activities>({ ...databaseActivityOptions, startToCloseTimeout: '5 minutes' });
/** Replays recorded requests against the candidate offline. */
const { simulateRollout } = proxyActivities<Activities>({ ...databaseActivityOptions, startToCloseTimeout: '15 minutes' });
/** How long every live server gets to serve a step's versions before the step bakes. */
const SERVING_AGREEMENT_TIMEOUT_MS = 60_000;
/** Waits for the live servers to serve a step's versions (polling served_routes, heartbeating). */
const { awaitServingAgreement } = proxyActivities<Activities>({ ...databaseActivityOptions, startToCloseTimeout: SERVING_AGREEMENT_TIMEOUT_MS + 60_000, heartbeatTimeout: '30 seconds' });
/** Attempts at returning traffic after a rollout failed, each one an activity with its own retries. */
const RESTORE_ATTEMPTS = 3;

const HISTORY_LIMIT = 50;
const LAST_GOOD_LIMIT = 10;
const EARLIER_ROLLOUTS_LIMIT = 5;

/**
 * The one owner of an endpoint's traffic: stable, canary (+ weight) and shadow. Deploys, pauses, resumes, aborts,
 * promotions and rollbacks arrive as Updates with validators, so two rollouts never interleave; each rollout step sets
 * weights, bakes on a durable timer and reads its gates, and a breach rolls back at once. Lives as long as the endpoint.
 */
export async function endpointController(input: EndpointControllerInput): Promise<void> {
  const { workflowId } = workflowInfo();
  const state: ControllerState = input.state ?? {
    projectId: input.projectId,
    endpointName: input.endpointName,
    endpointId: null,
    stable: null,
    canary: null,
    shadow: null,
    rollout: null,
    lastGood: [],
    rolledBack: false,
    history: [],
    changeSeq: 0,
  };
  let loaded = input.state !== undefined;
  let rollbackInFlight = false;

  setHandler(endpointStatusQuery, () => state);

  setHandler(
    deployUpdate,
    async (request: DeployRequest): Promise<DeployAccepted> => {
      await condition(() => loaded);
      // The same rollout id again (a retried request or activity) answers with that rollout instead of starting another.
      if (state.rollout?.rolloutId !== request.rolloutId) {
        checkDeploy(state, request, rollbackInFlight);
        if (state.rollout) state.earlierRollouts = [state.rollout, ...(state.earlierRollouts ?? [])].slice(0, EARLIER_ROLLOUTS_LIMIT);
        state.rollout = newRollout(state, request, new Date().toISOString());
      }
      const rollout = state.rollout;
      if (request.waitForFirstStep) await condition(() => rollout.appliedSteps > 0 || !isActive(rollout.status));
      return {
        workflowId,
        rolloutId: rollout.rolloutId,
        strategy: rollout.strategy.type,
        endpointId: state.endpointId,
        status: rollout.status,
        steps: rollout.plan,
        failure: rollout.failure,
        outcome: rollout.outcome,
      };
    },
    {
      validator: (request: DeployRequest) => {
        if (!request?.rolloutId || !request.candidate?.versionId) throw refuse(RolloutRefusal.InvalidStrategy, 'A deploy names a rollout id and a candidate version.');
        if (loaded && state.rollout?.rolloutId !== request.rolloutId) checkDeploy(state, request, rollbackInFlight);
      },
    },
  );

  setHandler(
    rolloutOutcomeUpdate,
    async ({ rolloutId }: { rolloutId: string }): Promise<RolloutState> => {
      await condition(() => loaded);
      const rollout = knownRollout(rolloutId);
      await condition(() => !isActive(rollout.status));
      return rollout;
    },
    { validator: ({ rolloutId }: { rolloutId: string }) => void (loaded && knownRollout(rolloutId)) },
  );

  setHandler(
    pauseUpdate,
    (request: ActionRequest) => {
      const rollout = activeRollout();
      rollout.status = 'paused';
      rollout.pausedBy = request.by;
      setCurrentDetails(`rollout ${rollout.rolloutId} paused at step ${rollout.step + 1} by ${request.by}`);
      return actionResult(true, `Rollout ${rollout.rolloutId} is paused at step ${rollout.step + 1} of ${rollout.plan.length}; its bake clock has stopped.`);
    },
    {
      validator: (_request: ActionRequest) => {
        const rollout = activeRollout();
        if (rollout.status !== 'running' || rollout.control) {
          throw refuse(RolloutRefusal.NotRunning, `Rollout ${rollout.rolloutId} is ${rollout.control ? `being ${rollout.control.action === 'abort' ? 'aborted' : 'promoted'}` : rollout.status}; only a running rollout can be paused.`);
        }
      },
    },
  );

  setHandler(
    resumeUpdate,
    (_request: ActionRequest) => {
      const rollout = activeRollout();
      rollout.status = 'running';
      rollout.pausedBy = null;
      return actionResult(true, `Rollout ${rollout.rolloutId} resumed at step ${rollout.step + 1} of ${rollout.plan.length}${rollout.remainingBakeMs !== null ? ` with ${Math.ceil(rollout.remainingBakeMs / 1000)} s of bake left` : ''}.`);
    },
    {
      validator: (_request: ActionRequest) => {
        const rollout = activeRollout();
        if (rollout.status !== 'paused') throw refuse(RolloutRefusal.NotPaused, `Rollout ${rollout.rolloutId} is ${rollout.status}, not paused; there is nothing to resume.`);
      },
    },
  );

  const steer = (action: 'abort' | 'promote') => async (request: ActionRequest) => {
    const rollout = activeRollout();
    rollout.control ??= { action, by: request.by, reason: request.reason ?? (action === 'abort' ? 'aborted by an operator' : 'promoted by an operator') };
    await condition(() => !isActive(rollout.status));
    return actionResult(true, rollout.outcome ?? `Rollout ${rollout.rolloutId} ended ${rollout.status}.`);
  };
  setHandler(abortUpdate, steer('abort'), { validator: (_request: ActionRequest) => void activeRollout() });
  setHandler(promoteNowUpdate, steer('promote'), { validator: (_request: ActionRequest) => void activeRollout() });

  setHandler(rollbackUpdate, async (request: ActionRequest) => {
    await condition(() => loaded && !rollbackInFlight);
    const rollout = state.rollout;
    if (rollout && isActive(rollout.status)) {
      // During a rollout, the last version stable at 100 % is still the stable one: rolling back is aborting.
      rollout.control ??= { action: 'abort', by: request.by, reason: request.reason ?? 'rollback requested' };
      await condition(() => !isActive(rollout.status));
      return actionResult(true, rollout.outcome ?? `Rollout ${rollout.rolloutId} ended ${rollout.status}.`);
    }
    const target = state.lastGood[0];
    if (state.rolledBack || !target || !state.stable) {
      const where = state.stable ? `${state.stable.model} v${state.stable.version}` : 'no version';
      return actionResult(false, `Nothing to roll back: endpoint ${state.endpointName} already serves ${where}, its last good version${state.rolledBack ? ' (restored by the last rollback)' : ''}.`);
    }
    rollbackInFlight = true;
    try {
      const from = state.stable;
      const reason = `rollback by ${request.by}: ${from.model} v${from.version} → ${target.model} v${target.version}${request.reason ? ` (${request.reason})` : ''}`;
      state.changeSeq++;
      await change({ kind: 'rollback', key: `rollback:${state.changeSeq}`, stable: target, canary: null, shadow: null, from, to: target, weight: 100, reason, actor: request.by, summary: null });
      state.lastGood.shift();
      state.rolledBack = true;
      return actionResult(true, `Endpoint ${state.endpointName} serves ${target.model} v${target.version} again (was ${from.model} v${from.version}).`);
    } finally {
      rollbackInFlight = false;
    }
  });

  if (!loaded) {
    const traffic = await readEndpointTraffic({ projectId: input.projectId, endpointName: input.endpointName });
    if (traffic) Object.assign(state, { endpointId: traffic.endpointId, stable: traffic.stable, canary: traffic.canary, shadow: traffic.shadow });
    loaded = true;
  }

  for (;;) {
    await condition(() => state.rollout?.status === 'pending' || continueAsNewDue());
    const rollout = state.rollout;
    if (rollout?.status === 'pending') {
      await runRollout(rollout);
      continue;
    }
    // Only between rollouts and with no Update mid-way, so nothing in flight is lost with the old run; a deploy that
    // arrives meanwhile (its handler waits for its first step) is run first.
    await condition(() => allHandlersFinished() || state.rollout?.status === 'pending');
    if (state.rollout?.status === 'pending') continue;
    await continueAsNew<typeof endpointController>({ ...input, state });
  }

  function continueAsNewDue(): boolean {
    const info = workflowInfo();
    return info.continueAsNewSuggested || (input.maxHistoryEvents !== undefined && info.historyLength >= input.maxHistoryEvents);
  }

  function activeRollout(): RolloutState {
    const rollout = state.rollout;
    if (!rollout || !isActive(rollout.status)) throw refuse(RolloutRefusal.NoRollout, `No rollout is running on endpoint ${state.endpointName}; start one with POST /v1/endpoints/${state.endpointName}/rollouts.`);
    return rollout;
  }

  function knownRollout(rolloutId: string): RolloutState {
    const rollout = state.rollout?.rolloutId === rolloutId ? state.rollout : state.earlierRollouts?.find((r) => r.rolloutId === rolloutId);
    if (!rollout) throw refuse(RolloutRefusal.UnknownRollout, `Endpoint ${state.endpointName} has no rollout ${rolloutId} (or it ended too long ago to be remembered).`);
    return rollout;
  }

  function actionResult(changed: boolean, message: string): ControllerActionResult {
    return { changed, message, rollout: state.rollout, stable: state.stable };
  }

  async function runRollout(rollout: RolloutState): Promise<void> {
    if (rollout.failClosed === undefined && patched(GATES_FAIL_CLOSED)) rollout.failClosed = true;
    await runSteps(rollout);
    // The endpoint row carries how the rollout ended, for the data plane's gauges and readers of the database.
    await recordSummary(rollout);
  }

  /** Writes the rollout's status and step to the endpoint row; a database that refuses it leaves the row behind, not the rollout. */
  async function recordSummary(rollout: RolloutState): Promise<void> {
    await recordRolloutSummary({ projectId: state.projectId, endpointName: state.endpointName, summary: summaryOf(rollout, rollout.step) }).catch((err: unknown) => {
      if (!(err instanceof ActivityFailure)) throw err;
    });
  }

  /**
   * Waits while the rollout is paused, until it is resumed, aborted or promoted. The endpoint row says paused
   * meanwhile and running again after, so readers of the database (GET /v1/endpoints) see what the query sees.
   */
  async function waitWhilePaused(rollout: RolloutState): Promise<void> {
    const recorded = rollout.status === 'paused' && !rollout.control && patched(RECORD_PAUSE_ON_ENDPOINT);
    if (recorded) await recordSummary(rollout);
    await condition(() => rollout.status !== 'paused' || rollout.control !== null);
    if (recorded && !rollout.control) await recordSummary(rollout);
  }

  async function runSteps(rollout: RolloutState): Promise<void> {
    try {
      if (rollout.simulate && state.stable && state.endpointId) {
        rollout.status = 'simulating';
        const report = await simulateRollout({
          projectId: state.projectId,
          endpointId: state.endpointId,
          candidateVersionId: rollout.candidate.versionId,
          stableVersionId: state.stable.versionId,
          requests: rollout.simulate.requests,
          thresholds: { minAgreement: rollout.simulate.minAgreement, maxShiftPsi: rollout.simulate.maxShiftPsi, maxP99LatencyMs: rollout.simulate.maxP99LatencyMs },
        });
        rollout.simulation = report;
        if (!report.passed) {
          const reason = `simulation failed for ${describe(rollout.candidate)}: ${report.failures.map((f) => f.message).join(' ')}`;
          await recordOutcome(rollout, 'simulation_failed', reason);
          return finish(rollout, 'failed', reason, RolloutFailure.SimulationFailed);
        }
      }
      if (rollout.status === 'pending' || rollout.status === 'simulating') rollout.status = 'running';
      for (let i = rollout.step; i < rollout.plan.length; i++) {
        rollout.step = i;
        await waitWhilePaused(rollout);
        if (rollout.control) return await obey(rollout);
        const step = rollout.plan[i];
        if (!step) break;
        if (rollout.appliedSteps <= i) await applyStep(rollout, i);
        if (rollout.failClosed) {
          const verdict = await judgeStep(rollout, i);
          if (verdict === 'interrupted') return await obey(rollout);
          if (verdict) return await rollBack(rollout, 'rollback', 'rolled_back', verdict.reason, 'workflow:' + workflowId, verdict.failure);
          continue;
        }
        const interrupted = await bake(rollout, step.bakeMs);
        if (interrupted) return await obey(rollout);
        if (step.bakeMs > 0 && hasGates(rollout.gates) && state.endpointId && rollout.stepStartedAt) {
          const route = step.route === 'shadow' ? 'shadow' : step.weight === 100 ? 'stable' : 'canary';
          const { readings, breached } = await evaluateRolloutGates({
            projectId: state.projectId,
            endpointId: state.endpointId,
            candidateVersionId: rollout.candidate.versionId,
            stableVersionId: rollout.baseline?.versionId ?? null,
            route,
            from: rollout.stepStartedAt,
            to: new Date().toISOString(),
            gates: rollout.gates ?? {},
          });
          rollout.readings = mergeReadings(rollout.readings, readings);
          if (breached) {
            rollout.breached = breached;
            const reason = `gate ${breached.gate} breached at step ${i + 1} of ${rollout.plan.length}: ${formatReading(breached)}; ${describe(rollout.candidate)} rolled back`;
            return await rollBack(rollout, 'rollback', 'rolled_back', reason, 'workflow:' + workflowId);
          }
        }
      }
      const unjudged = rollout.unjudgedSteps?.length ? `; went on without enough data at step ${rollout.unjudgedSteps.map((u) => `${u.step} (${u.why})`).join(', ')} because the rollout says onInsufficientTraffic: promote` : '';
      finish(rollout, 'succeeded', `${describe(rollout.candidate)} ${rollout.plan.at(-1)?.route === 'shadow' ? 'shadowed without being promoted' : 'is stable at 100 %'}${unjudged}`);
      if (rollout.plan.at(-1)?.route === 'shadow') await clearShadow(rollout);
    } catch (err) {
      // An activity that gave up (a version deleted under the rollout, a database refusing the change): the rollout
      // ends failed and the controller lives on; anything else is a bug and fails the task, to be fixed and replayed.
      if (!(err instanceof ActivityFailure)) throw err;
      const message = err.cause?.message ?? err.message;
      if (rollout.failClosed) return await restoreAfterFailure(rollout, `${err.activityType} gave up: ${message.replace(/\.$/, '')}`);
      finish(rollout, 'failed', `could not change traffic: ${message}`, RolloutFailure.TrafficChangeFailed);
    }
  }

  /**
   * A rollout that gave up part-way returns all traffic (and `production`, when it moved it) to the last good
   * version, retrying; when even that fails, the rollout says so in its outcome and failure type, and the log shouts.
   */
  async function restoreAfterFailure(rollout: RolloutState, why: string): Promise<void> {
    let last = '';
    for (let attempt = 1; attempt <= RESTORE_ATTEMPTS; attempt++) {
      try {
        return await rollBack(rollout, 'rollback', 'failed', `${why}; all traffic is on the last good version`, 'workflow:' + workflowId, RolloutFailure.TrafficChangeFailed);
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        last = err.cause?.message ?? err.message;
        if (attempt < RESTORE_ATTEMPTS) await sleep(attempt * 10_000);
      }
    }
    const serving = state.canary ? `${describe(state.canary)} still takes ${state.canary.weight} %` : state.stable ? `${describe(state.stable)} still serves` : 'nothing is served';
    const outcome = `${why}; returning traffic to the last good version failed too (${last}): ${serving} on endpoint ${state.endpointName}; roll back by hand (POST /v1/endpoints/${state.endpointName}/rollback)`;
    log.error(`rollout ${rollout.rolloutId} left traffic where it failed`, { endpoint: state.endpointName, outcome });
    finish(rollout, 'failed', outcome, RolloutFailure.TrafficNotRestored);
  }

  /**
   * One step, failing closed: every live server must serve the step's versions, then the step bakes with its gates
   * read every gate interval (a breach ends it at once). A bake that ends short of data is extended, read at the same
   * interval, up to maxBakeExtensionSeconds; then the step rolls back, or goes on when the rollout says so.
   * Returns null to go on, 'interrupted' for an operator's abort or promote, or why to roll back.
   */
  async function judgeStep(rollout: RolloutState, i: number): Promise<null | 'interrupted' | { failure: string; reason: string }> {
    const step = rollout.plan[i];
    if (!step) return null;
    const serving = await checkServing(rollout, i);
    if (serving) return serving;
    const gates = rollout.gates;
    if (step.bakeMs <= 0 || !hasGates(gates) || !gates || !state.endpointId) return (await bake(rollout, step.bakeMs)) ? 'interrupted' : null;
    const intervalMs = Math.max(1, gates.gateIntervalSeconds ?? DEFAULT_GATE_INTERVAL_SECONDS) * 1000;
    const seen: { latest: RolloutGatesResult | null } = { latest: null };
    rollout.bakeExtendedMs = 0;
    rollout.insufficient = null;
    const read = async (): Promise<boolean> => {
      seen.latest = await readGates(rollout, i);
      return seen.latest.breached !== null || !!seen.latest.servingLoadFailure;
    };
    if ((await bakeReading(rollout, step.bakeMs, intervalMs, read)) === 'interrupted') return 'interrupted';
    const extension = Math.max(0, gates.maxBakeExtensionSeconds ?? DEFAULT_MAX_BAKE_EXTENSION_SECONDS) * 1000;
    const short = () => seen.latest === null || (seen.latest.breached === null && seen.latest.insufficient !== null);
    if (short() && extension > 0) {
      const extended = await bakeReading(rollout, extension, intervalMs, async () => (await read()) || !short(), (ms) => (rollout.bakeExtendedMs = ms));
      if (extended === 'interrupted') return 'interrupted';
    }
    const result = seen.latest;
    const where = `step ${i + 1} of ${rollout.plan.length}`;
    // A server that began serving the endpoint mid-bake and could not load the step's versions.
    if (result?.servingLoadFailure) return loadFailed(rollout, result.servingLoadFailure, where);
    if (result?.breached) {
      rollout.breached = result.breached;
      return { failure: RolloutFailure.GateBreached, reason: `gate ${result.breached.gate} breached at ${where}: ${formatReading(result.breached)}; ${describe(rollout.candidate)} rolled back` };
    }
    if (!short()) return null;
    const why = result?.insufficient ?? 'no gate reading';
    const waited = `after its ${Math.round(step.bakeMs / 1000)} s bake and ${Math.round((rollout.bakeExtendedMs ?? 0) / 1000)} s more`;
    if (gates.onInsufficientTraffic === 'promote') {
      rollout.unjudgedSteps = [...(rollout.unjudgedSteps ?? []), { step: i + 1, why }];
      setCurrentDetails(`rollout ${rollout.rolloutId} goes on from ${where} without enough data (${why}): onInsufficientTraffic is promote`);
      return null;
    }
    return { failure: RolloutFailure.InsufficientTraffic, reason: `insufficient traffic at ${where} ${waited}: ${why}; nothing passed, so ${describe(rollout.candidate)} rolled back (send more traffic, lower minRequests, or set onInsufficientTraffic: promote)` };
  }

  /** Reads the step's window so far; the last step at 100 % compares with stable's rows since the rollout began (and one bake before). */
  async function readGates(rollout: RolloutState, i: number): Promise<RolloutGatesResult> {
    const step = rollout.plan[i];
    const route = step?.route === 'shadow' ? 'shadow' : step?.weight === 100 ? 'stable' : 'canary';
    const to = new Date().toISOString();
    const from = rollout.stepStartedAt ?? to;
    const result = await evaluateRolloutGates({
      projectId: state.projectId,
      endpointId: state.endpointId ?? '',
      candidateVersionId: rollout.candidate.versionId,
      stableVersionId: rollout.baseline?.versionId ?? null,
      route,
      from,
      // A window that has not yet begun (the same millisecond) reads as one millisecond.
      to: Date.parse(to) > Date.parse(from) ? to : new Date(Date.parse(from) + 1).toISOString(),
      ...(route === 'stable' && { stableFrom: new Date(Date.parse(rollout.startedAt) - (step?.bakeMs ?? 0)).toISOString() }),
      expectedServing: expectedRoutes(),
      gates: rollout.gates ?? {},
    });
    rollout.gateReads = (rollout.gateReads ?? 0) + 1;
    rollout.readings = mergeReadings(rollout.readings, result.readings);
    rollout.insufficient = result.breached ? null : result.insufficient;
    return result;
  }

  /** What each route serves once the controller's last change is loaded everywhere. */
  function expectedRoutes(): ExpectedRoutes {
    return { stable: state.stable?.versionId ?? null, canary: state.canary?.versionId ?? null, shadow: state.shadow?.versionId ?? null };
  }

  /** Waits until every live server serves what the endpoint now asks for; why to roll back when one cannot. */
  async function checkServing(rollout: RolloutState, i: number): Promise<{ failure: string; reason: string } | null> {
    if (!state.endpointId) return null;
    const agreement = await awaitServingAgreement({
      projectId: state.projectId,
      endpointId: state.endpointId,
      expected: expectedRoutes(),
      timeoutMs: SERVING_AGREEMENT_TIMEOUT_MS,
    });
    rollout.serving = agreement;
    const where = `step ${i + 1} of ${rollout.plan.length}`;
    if (agreement.loadFailure) return loadFailed(rollout, agreement.loadFailure, where);
    if (!agreement.agreed) {
      const who = agreement.disagreeing.map((d) => `${d.host} (pid ${d.pid}) serves ${d.serves ?? 'nothing'} on ${d.route} instead of ${d.expected ?? 'nothing'}`).join('; ');
      return { failure: RolloutFailure.ServingDisagrees, reason: `servers did not serve ${where}'s versions within ${SERVING_AGREEMENT_TIMEOUT_MS / 1000} s: ${who}; ${describe(rollout.candidate)} rolled back` };
    }
    return null;
  }

  function loadFailed(rollout: RolloutState, f: ServingLoadFailure, where: string): { failure: string; reason: string } {
    const version = f.versionId === rollout.candidate.versionId ? describe(rollout.candidate) : `model version ${f.versionId}`;
    return { failure: RolloutFailure.CandidateLoadFailed, reason: `${version} failed to load on server ${f.host} (pid ${f.pid}, instance ${f.instanceId}) for its ${f.route} route at ${where}: ${f.error}; ${describe(rollout.candidate)} rolled back` };
  }

  /**
   * Bakes for bakeMs like `bake`, calling `read` every intervalMs of baking and once at the end; `read` answering true
   * ends the bake early ('stopped'). `onBaked` hears how much has been baked.
   */
  async function bakeReading(rollout: RolloutState, bakeMs: number, intervalMs: number, read: () => Promise<boolean>, onBaked?: (ms: number) => void): Promise<'interrupted' | 'stopped' | 'done'> {
    let remaining = bakeMs;
    let untilRead = Math.min(intervalMs, bakeMs);
    for (;;) {
      if (rollout.control) return 'interrupted';
      if (rollout.status === 'paused') {
        rollout.remainingBakeMs = remaining;
        rollout.bakeEndsAt = null;
        await waitWhilePaused(rollout);
        continue;
      }
      if (remaining <= 0) break;
      const started = Date.now();
      rollout.bakeEndsAt = new Date(started + remaining).toISOString();
      rollout.remainingBakeMs = null;
      const wait = Math.min(remaining, untilRead);
      const interrupted = await condition(() => rollout.status === 'paused' || rollout.control !== null, wait);
      const baked = interrupted ? Math.min(wait, Math.max(0, Date.now() - started)) : wait;
      remaining -= baked;
      untilRead -= baked;
      onBaked?.(bakeMs - remaining);
      if (!interrupted && (untilRead <= 0 || remaining <= 0)) {
        untilRead = intervalMs;
        if (await read()) {
          rollout.bakeEndsAt = null;
          return 'stopped';
        }
      }
    }
    rollout.bakeEndsAt = null;
    rollout.remainingBakeMs = null;
    return 'done';
  }

  /** Waits out a step's bake; a pause stops the clock and a resume goes on with what was left. Returns true when told to abort or promote. */
  async function bake(rollout: RolloutState, bakeMs: number): Promise<boolean> {
    // No reads: the same one timer per stretch of baking as before gates were read during the bake.
    return (await bakeReading(rollout, bakeMs, Number.POSITIVE_INFINITY, () => Promise.resolve(false))) === 'interrupted';
  }

  async function applyStep(rollout: RolloutState, i: number): Promise<void> {
    const step = rollout.plan[i];
    if (!step) return;
    const { candidate } = rollout;
    const summary = summaryOf(rollout, i);
    if (step.route === 'shadow') {
      await change({ kind: 'shadow', key: `${rollout.rolloutId}:${i}:shadow`, stable: state.stable, canary: null, shadow: candidate, from: null, to: candidate, weight: 0, reason: `${describe(candidate)} shadows ${describeOrNone(state.stable)} (step ${i + 1} of ${rollout.plan.length}): ${rollout.reason}`, actor: rollout.requestedBy, summary });
    } else if (step.weight < 100) {
      await change({ kind: 'canary', key: `${rollout.rolloutId}:${i}:canary`, stable: state.stable, canary: { ...candidate, weight: step.weight }, shadow: null, from: state.stable, to: candidate, weight: step.weight, reason: `${describe(candidate)} takes ${step.weight} % (step ${i + 1} of ${rollout.plan.length}): ${rollout.reason}`, actor: rollout.requestedBy, summary });
    } else {
      await promote(rollout, i, `${describe(candidate)} takes 100 % (step ${i + 1} of ${rollout.plan.length}): ${rollout.reason}`);
    }
    rollout.appliedSteps = i + 1;
  }

  /** The candidate becomes the stable version; the former one is remembered as last good. */
  async function promote(rollout: RolloutState, i: number, reason: string): Promise<void> {
    const { candidate } = rollout;
    const former = state.stable;
    const kind = rollout.strategy.type === 'allAtOnce' ? 'deploy' : 'promote';
    await change({
      kind,
      key: `${rollout.rolloutId}:${i}:${kind}`,
      stable: candidate,
      canary: null,
      shadow: null,
      from: former,
      to: candidate,
      weight: 100,
      reason,
      actor: rollout.requestedBy,
      summary: summaryOf(rollout, i),
      ...(rollout.moveProductionAlias && { moveProductionAliasTo: candidate.versionId }),
    });
    if (former && former.versionId !== candidate.versionId) state.lastGood = [former, ...state.lastGood.filter((v) => v.versionId !== former.versionId)].slice(0, LAST_GOOD_LIMIT);
    state.rolledBack = false;
  }

  /** Acts on an operator's abort or promote-now. */
  async function obey(rollout: RolloutState): Promise<void> {
    const control = rollout.control;
    if (!control) return;
    if (control.action === 'promote') {
      const at = rollout.step;
      const final = rollout.plan.length - 1;
      if (!(rollout.appliedSteps > final || state.stable?.versionId === rollout.candidate.versionId)) {
        await promote(rollout, final + 1, `${describe(rollout.candidate)} promoted to 100 % at step ${at + 1} by ${control.by}: ${control.reason}`);
        rollout.appliedSteps = rollout.plan.length;
      }
      return finish(rollout, 'succeeded', `${describe(rollout.candidate)} promoted to 100 % at step ${at + 1} of ${rollout.plan.length} by ${control.by}: ${control.reason}`);
    }
    await rollBack(rollout, 'abort', 'aborted', `rollout ${rollout.rolloutId} of ${describe(rollout.candidate)} aborted at step ${rollout.step + 1} of ${rollout.plan.length} by ${control.by}: ${control.reason}`, control.by);
  }

  /** Returns all traffic to the version that was stable when the rollout started. */
  async function rollBack(rollout: RolloutState, kind: 'rollback' | 'abort', status: 'rolled_back' | 'aborted' | 'failed', reason: string, actor: string, failure: string | null = null): Promise<void> {
    const candidateIsStable = state.stable?.versionId === rollout.candidate.versionId;
    const target = candidateIsStable ? rollout.baseline : state.stable;
    const touched = rollout.appliedSteps > 0 || state.canary !== null || state.shadow !== null;
    if (touched && target) {
      // `production` moved with the candidate's promotion goes back with its traffic, so registry and endpoint agree.
      const moveAliasBack = rollout.failClosed && rollout.moveProductionAlias && candidateIsStable && target.model === rollout.candidate.model;
      await change({ kind, key: `${rollout.rolloutId}:${rollout.step}:${kind}`, stable: target, canary: null, shadow: null, from: rollout.candidate, to: target, weight: 0, reason, actor, summary: { ...summaryOf(rollout, rollout.step), status }, ...(moveAliasBack && { moveProductionAliasTo: target.versionId }) });
      if (candidateIsStable) state.lastGood = state.lastGood.filter((v) => v.versionId !== target.versionId);
      state.rolledBack = true;
    } else if (touched) {
      // An allAtOnce first deploy has nothing to go back to: the candidate keeps serving, and the rollout says so.
      return finish(rollout, 'failed', `${reason}; but endpoint ${state.endpointName} had no earlier version, so ${describe(rollout.candidate)} keeps serving`, kind === 'abort' ? null : (failure ?? 'gate_breached'));
    }
    finish(rollout, status, reason, failure);
  }

  /** Stops a shadow that was not promoted: the candidate's copy of traffic ends with the rollout. */
  async function clearShadow(rollout: RolloutState): Promise<void> {
    await change({ kind: 'shadow', key: `${rollout.rolloutId}:end:shadow`, stable: state.stable, canary: null, shadow: null, from: rollout.candidate, to: null, weight: 0, reason: `shadow of ${describe(rollout.candidate)} ended without promotion`, actor: rollout.requestedBy, summary: summaryOf(rollout, rollout.step) });
  }

  /** A rollout that ended before any traffic moved still leaves an event saying why. */
  async function recordOutcome(rollout: RolloutState, kind: TrafficChangeKind, reason: string): Promise<void> {
    await change({ kind, key: `${rollout.rolloutId}:${kind}`, stable: state.stable, canary: state.canary, shadow: state.shadow, from: state.stable, to: rollout.candidate, weight: state.canary?.weight ?? 0, reason, actor: rollout.requestedBy, summary: { ...summaryOf(rollout, 0), status: 'failed' } });
  }

  function finish(rollout: RolloutState, status: RolloutState['status'], outcome: string, failure: string | null = null): void {
    rollout.status = status;
    rollout.outcome = outcome;
    rollout.failure = failure;
    rollout.control = null;
    rollout.bakeEndsAt = null;
    rollout.remainingBakeMs = null;
    rollout.finishedAt = new Date().toISOString();
    setCurrentDetails(`rollout ${rollout.rolloutId} ${status}: ${outcome}`);
  }

  interface Change {
    kind: TrafficChangeKind;
    key: string;
    stable: VersionRef | null;
    canary: (VersionRef & { weight: number }) | null;
    shadow: VersionRef | null;
    from: VersionRef | null;
    to: VersionRef | null;
    weight: number;
    reason: string;
    actor: string;
    summary: Omit<EndpointRolloutSummary, 'updatedAt'> | null;
    moveProductionAliasTo?: string;
  }

  /** One traffic change, written once (idempotency key from workflow id, rollout, step and kind), mirrored in the state. */
  async function change(c: Change): Promise<void> {
    const result = await applyTrafficChange({
      projectId: state.projectId,
      endpointName: state.endpointName,
      idempotencyKey: `${workflowId}:${c.key}`, // for rollout steps: trafficChangeKey(workflowId, rolloutId, step, kind)
      stableVersionId: c.stable?.versionId ?? null,
      canaryVersionId: c.canary?.versionId ?? null,
      canaryWeight: c.canary?.weight ?? 0,
      shadowVersionId: c.shadow?.versionId ?? null,
      kind: c.kind,
      fromVersionId: c.from?.versionId ?? null,
      toVersionId: c.to?.versionId ?? null,
      trafficWeight: c.weight,
      reason: c.reason,
      rollout: c.summary,
      actor: c.actor,
      ...(c.moveProductionAliasTo && { moveProductionAliasTo: c.moveProductionAliasTo }),
    });
    state.endpointId = result.endpointId;
    state.stable = c.stable;
    state.canary = c.canary;
    state.shadow = c.shadow;
    if (state.rollout && isActive(state.rollout.status)) state.rollout.stepStartedAt = result.at;
    const rolloutId = c.summary ? c.summary.rolloutId : null;
    state.history = [...state.history, { at: result.at, kind: c.kind, rolloutId, from: c.from, to: c.to, weight: c.weight, reason: c.reason }].slice(-HISTORY_LIMIT);
    setCurrentDetails(c.reason);
  }

  function summaryOf(rollout: RolloutState, step: number): Omit<EndpointRolloutSummary, 'updatedAt'> {
    const status = rollout.status === 'pending' || rollout.status === 'simulating' ? 'running' : rollout.status;
    return { rolloutId: rollout.rolloutId, workflowId, status, strategy: rollout.strategy.type, step: Math.min(step, rollout.plan.length - 1), steps: rollout.plan.length, candidateVersionId: rollout.candidate.versionId };
  }
}

function describe(v: VersionRef): string {
  return `${v.model} v${v.version}`;
}

function describeOrNone(v: VersionRef | null): string {
  return v ? describe(v) : 'nothing';
}

function formatReading(r: GateReading): string {
  const value = r.value === null ? 'no data' : Number.isInteger(r.value) ? String(r.value) : r.value.toFixed(4);
  const bound = r.gate === 'minAccuracy' ? '<' : '>';
  return `${r.gate} ${value} ${bound} ${r.threshold} over ${r.samples} predictions`;
}

/** Keeps each gate's latest reading. */
function mergeReadings(previous: GateReading[], latest: GateReading[]): GateReading[] {
  const byGate = new Map(previous.map((r) => [r.gate, r]));
  for (const r of latest) byGate.set(r.gate, r);
  return [...byGate.values()];
}
