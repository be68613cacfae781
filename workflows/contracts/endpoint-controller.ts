import { WorkflowIdConflictPolicy } from '@temporalio/common';
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { EndpointRolloutSummary, GateReading, RolloutGates } from '../../domain/rollout';
import type { RolloutSimulationReport } from '../../domain/rollout-evaluation';
import type { ServingAgreement } from '../../domain/serving-agreement';
import { factorySearchAttributes } from './search-attributes';
import type { RolloutStrategy, SimulationRequirement } from '../../domain/model-policy';

export type { CanaryStep, RolloutStrategy, SimulationRequirement } from '../../domain/model-policy';

/** The controller's workflow type, for clients that start it by name. */
export const ENDPOINT_CONTROLLER_WORKFLOW_TYPE = 'endpointController';

/** One controller per endpoint: its id is derived from the project and the endpoint's name, so a second can never start. */
export function endpointControllerWorkflowId(projectId: string, endpointName: string): string {
  return `endpoint/${projectId}/${endpointName}`;
}

/**
 * How a client starts the controller with its first Update (`executeUpdateWithStart`): the running one is used
 * when it exists, so every deploy, from the API or a pipeline, reaches the same workflow.
 */
export function endpointControllerStartOptions(projectId: string, endpointName: string, taskQueue: string) {
  const input: EndpointControllerInput = { projectId, endpointName };
  return {
    workflowId: endpointControllerWorkflowId(projectId, endpointName),
    taskQueue,
    args: [input] as [EndpointControllerInput],
    memo: { projectId },
    typedSearchAttributes: factorySearchAttributes({ projectId, endpoint: endpointName }),
    staticSummary: `traffic controller of endpoint ${endpointName}`,
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
  };
}

/** The idempotency key of a traffic change a controller makes for a rollout's step (also what a pipeline looks for to know its deploy happened). */
export function trafficChangeKey(controllerWorkflowId: string, rolloutId: string, step: number | string, kind: string): string {
  return `${controllerWorkflowId}:${rolloutId}:${step}:${kind}`;
}

/** The rollout id a pipeline's deploy stage uses when it hands over to the controller. */
export function pipelineRolloutId(pipelineWorkflowId: string): string {
  return `${pipelineWorkflowId}:deploy`;
}

/** `patched()` id: the pipeline's deploy stage hands the version to the endpoint's controller instead of a deployModel child. */
export const DEPLOY_VIA_ENDPOINT_CONTROLLER = 'deploy-via-endpoint-controller';

/** `patched()` id: the pipeline's deploy stage passes its rollout (strategy, gates) to the controller and waits for the outcome. */
export const PIPELINE_ROLLOUT = 'pipeline-rollout';

/** `patched()` id: a pipeline whose canary was rolled back after its promotion stage moved `production` moves it back. */
export const REVERT_PROMOTION_ON_ROLLBACK = 'revert-promotion-on-rollback';

/**
 * `patched()` id: the controller's guards fail closed. Gates are read during the bake, no reading is not a pass, a
 * step short of data extends its bake then rolls back, every live server must serve the step's versions before it
 * bakes, and any rollout that does not end promoted returns traffic (and `production`) to the last good version.
 */
export const GATES_FAIL_CLOSED = 'gates-fail-closed';


export type RolloutStrategyName = RolloutStrategy['type'];


/** A model version as the controller names it: id for the database, model and number for people. */
export interface VersionRef {
  versionId: string;
  model: string;
  version: number;
}

/** The `deploy` Update: roll `candidate` out with `strategy`. */
export interface DeployRequest {
  /** Chosen by the caller, so a retried request names the same rollout. */
  rolloutId: string;
  candidate: VersionRef;
  strategy: RolloutStrategy;
  gates?: RolloutGates;
  simulate?: SimulationRequirement;
  reason: string;
  /** An API key id, or `workflow:<id>`. */
  requestedBy: string;
  /** Move the model's `production` alias when the candidate reaches 100 % (the pipeline's deploy stage without promotion). */
  moveProductionAlias?: boolean;
  /** Answer only once the first step's traffic is applied (or the rollout ended before it): the pipeline predicts right after. */
  waitForFirstStep?: boolean;
}

export type RolloutStatus = 'pending' | 'simulating' | 'running' | 'paused' | 'succeeded' | 'rolled_back' | 'aborted' | 'failed';

export const ACTIVE_ROLLOUT_STATUSES: readonly RolloutStatus[] = ['pending', 'simulating', 'running', 'paused'];

/** One planned step: where the candidate sits (canary share, or shadow copy) and how long it bakes. */
export interface PlannedStep {
  route: 'canary' | 'shadow';
  /** Candidate's share in percent; 100 means it is the stable version. Shadow steps carry 0. */
  weight: number;
  bakeMs: number;
}

export interface RolloutState {
  rolloutId: string;
  candidate: VersionRef;
  /** The stable version when the rollout started: where an abort or breach returns traffic. */
  baseline: VersionRef | null;
  strategy: RolloutStrategy;
  plan: PlannedStep[];
  gates: RolloutGates | null;
  simulate: SimulationRequirement | null;
  status: RolloutStatus;
  /** 0-based index of the current step. */
  step: number;
  /** How many steps have had their traffic applied (a crash-and-replay never applies one twice: the activity is idempotent). */
  appliedSteps: number;
  /** ISO time the current step's traffic was applied: its gate window starts here. */
  stepStartedAt: string | null;
  /** ISO time the running bake ends; null while paused or between bakes. */
  bakeEndsAt: string | null;
  /** Bake left when paused, in milliseconds. */
  remainingBakeMs: number | null;
  /** Each gate's latest reading (one per gate), and the breach that rolled the candidate back. */
  readings: GateReading[];
  breached: GateReading | null;
  simulation: RolloutSimulationReport | null;
  /** Why the rollout ended the way it did (breach numbers, who aborted, simulation failure). */
  outcome: string | null;
  /** Failure type when it failed (e.g. `simulation_failed`). */
  failure: string | null;
  /** An operator's abort or promote-now, waiting for the rollout loop to act on it. */
  control: { action: 'abort' | 'promote'; by: string; reason: string } | null;
  /** Who paused it, while paused. */
  pausedBy: string | null;
  reason: string;
  requestedBy: string;
  moveProductionAlias: boolean;
  startedAt: string;
  finishedAt: string | null;
  /** Set when the rollout runs with the fail-closed guards (GATES_FAIL_CLOSED); absent in rollouts from before. */
  failClosed?: boolean;
  /** How many times this rollout's gates were read (during bakes and their extensions). */
  gateReads?: number;
  /** Why the last reading could not judge the step (too few predictions, a gate with no reading), or null. */
  insufficient?: string | null;
  /** How long the current step's bake has been extended waiting for enough data, in milliseconds. */
  bakeExtendedMs?: number;
  /** Steps that went on without enough data because the rollout said `onInsufficientTraffic: "promote"` (1-based), with why. */
  unjudgedSteps?: { step: number; why: string }[];
  /** What the live servers served when the current step was checked. */
  serving?: ServingAgreement | null;
}

/** One traffic change the controller made, kept in its bounded history. */
export interface ControllerHistoryEntry {
  at: string;
  kind: TrafficChangeKind;
  rolloutId: string | null;
  from: VersionRef | null;
  to: VersionRef | null;
  weight: number;
  reason: string;
}

export type TrafficChangeKind = 'deploy' | 'canary' | 'shadow' | 'promote' | 'rollback' | 'abort' | 'simulation_failed';

export interface ControllerState {
  projectId: string;
  endpointName: string;
  endpointId: string | null;
  stable: VersionRef | null;
  canary: (VersionRef & { weight: number }) | null;
  shadow: VersionRef | null;
  /** The running rollout, or the last one. */
  rollout: RolloutState | null;
  /** Versions that were stable at 100 % before the current one, newest first (bounded). */
  lastGood: VersionRef[];
  /** True after a rollback with no new stable since: a second rollback has nothing to do. */
  rolledBack: boolean;
  /** Last traffic changes, newest last (bounded). */
  history: ControllerHistoryEntry[];
  /** Rollouts that ended before the current one, newest first (bounded): a waiter that arrives late still learns how its rollout ended. Absent in states carried over from before it existed. */
  earlierRollouts?: RolloutState[];
  /** Counts changes made outside a rollout (rollbacks), for their idempotency keys across continue-as-new. */
  changeSeq: number;
}

export interface EndpointControllerInput {
  projectId: string;
  endpointName: string;
  /** Carried over continue-as-new; absent on first start (then read from the endpoint row). */
  state?: ControllerState;
  /** Continue-as-new once history has this many events, besides when Temporal suggests it (tests set it low). */
  maxHistoryEvents?: number;
}

/** What `deploy` answers: the rollout accepted (or, with waitForFirstStep, how far it got). */
export interface DeployAccepted {
  workflowId: string;
  rolloutId: string;
  /** The strategy of the rollout this answer is about (absent in answers recorded before it was added). */
  strategy?: RolloutStrategyName;
  endpointId: string | null;
  status: RolloutStatus;
  steps: PlannedStep[];
  failure: string | null;
  outcome: string | null;
}

/** What pause, resume, abort, promoteNow and rollback answer. */
export interface ControllerActionResult {
  /** False when there was nothing to do (a second rollback). */
  changed: boolean;
  message: string;
  rollout: RolloutState | null;
  stable: VersionRef | null;
}

export interface ActionRequest {
  reason?: string;
  by: string;
}

export type ControllerStatus = ControllerState;

export const deployUpdate = defineUpdate<DeployAccepted, [DeployRequest]>('deploy');
export const pauseUpdate = defineUpdate<ControllerActionResult, [ActionRequest]>('pause');
export const resumeUpdate = defineUpdate<ControllerActionResult, [ActionRequest]>('resume');
export const abortUpdate = defineUpdate<ControllerActionResult, [ActionRequest]>('abort');
export const promoteNowUpdate = defineUpdate<ControllerActionResult, [ActionRequest]>('promoteNow');
export const rollbackUpdate = defineUpdate<ControllerActionResult, [ActionRequest]>('rollback');
/** Answers once the named rollout has ended (at once when it already has), with how it ended: what a pipeline's rollout stage waits on. */
export const rolloutOutcomeUpdate = defineUpdate<RolloutState, [{ rolloutId: string }]>('rolloutOutcome');
/** Where the endpoint's traffic is, the running rollout's step and gate readings, and the recent changes. */
export const endpointStatusQuery = defineQuery<ControllerStatus>('endpointStatus');

/** `ApplicationFailure.type` strings of the controller's refusals; the API maps each to its 4xx. */
export const RolloutRefusal = {
  /** Another rollout runs on the endpoint: 409. */
  InProgress: 'rollout_in_progress',
  /** A canary or linear rollout without gates: 422. */
  GatesRequired: 'rollout_gates_required',
  /** canary/linear/shadow on an endpoint with nothing stable to compare with: 422. */
  NoStableVersion: 'no_stable_version',
  /** Steps not increasing, not ending at 100, bad numbers: 422. */
  InvalidStrategy: 'invalid_rollout_strategy',
  /** The candidate is already the stable version: 409. */
  AlreadyStable: 'candidate_already_stable',
  /** pause/resume/abort/promote with no rollout running: 409. */
  NoRollout: 'no_rollout_running',
  /** resume of a rollout that is not paused: 409. */
  NotPaused: 'rollout_not_paused',
  /** pause of a rollout already paused (or not yet past its simulation): 409. */
  NotRunning: 'rollout_not_running',
  /** rolloutOutcome for a rollout this controller does not know (never started here, or too long ago). */
  UnknownRollout: 'rollout_not_found',
} as const;

/** Failure types of a rollout that ended without reaching 100 %. */
export const RolloutFailure = {
  SimulationFailed: 'simulation_failed',
  /** A gate was judged out of bounds. */
  GateBreached: 'gate_breached',
  /** A step's bake and its extensions ended without enough data to judge its gates. */
  InsufficientTraffic: 'insufficient_traffic',
  /** A server could not load a version the step needs. */
  CandidateLoadFailed: 'candidate_load_failed',
  /** Live servers did not serve the step's versions in time. */
  ServingDisagrees: 'serving_disagrees',
  /** The rollout failed and even returning traffic to the last good version failed: an operator must roll back. */
  TrafficNotRestored: 'traffic_not_restored',
  /** The candidate version or the endpoint vanished, or the change was refused by the database: the rollout cannot go on. */
  TrafficChangeFailed: 'traffic_change_failed',
} as const;

/** What the activity that writes a traffic change takes: the whole new traffic state, one endpoint event, and the summary. */
export interface TrafficChange {
  projectId: string;
  endpointName: string;
  /** Derived from workflow id, rollout id, step and kind: a retried or replayed change is written once. */
  idempotencyKey: string;
  stableVersionId: string | null;
  canaryVersionId: string | null;
  canaryWeight: number;
  shadowVersionId: string | null;
  kind: TrafficChangeKind;
  fromVersionId: string | null;
  toVersionId: string | null;
  /** The weight the event records: the candidate's share after the change. */
  trafficWeight: number;
  reason: string;
  rollout: Omit<EndpointRolloutSummary, 'updatedAt'> | null;
  /** `workflow:<id>` or the API key that asked. */
  actor: string;
  /** Move this model version's `production` alias in the same transaction. */
  moveProductionAliasTo?: string;
}

export interface TrafficChangeResult {
  endpointId: string;
  /** ISO time of the change (the event's, when it was already written). */
  at: string;
  /** False when the key's change had already been written (a retry, or a worker that crashed after commit). */
  applied: boolean;
}

/** The endpoint's traffic as the database has it: what a controller starts from. */
export interface EndpointTraffic {
  endpointId: string;
  stable: VersionRef | null;
  canary: (VersionRef & { weight: number }) | null;
  shadow: VersionRef | null;
}

