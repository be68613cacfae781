import type { InfraValidationResult } from '../../domain/infra-validation';
import type { ModelSpec, Task, TaskChoice, Threshold } from '../../domain/model';
import type { Accelerator } from './task-queues';
import type { GateReading } from '../../domain/rollout';
import type { RolloutStatus, RolloutStrategyName } from './endpoint-controller';
import type { FairnessRequest, PipelineRollout, PromotionPolicy } from '../../domain/model-policy';

export type { FairnessRequest, PipelineRollout, PromotionPolicy } from '../../domain/model-policy';

/** Activity timing a deployment tunes (tests shorten it); workflows can't read the environment, so it rides in the input. */
export interface ActivityTimeouts {
  /** A heartbeating activity silent this long is presumed dead (its worker crashed) and retried elsewhere. */
  heartbeatTimeoutMs: number;
}

export interface IngestInput {
  projectId: string;
  datasetName: string;
  uploadUri: string;
  uploadSha256: string;
  uploadBytes: number;
  contentType: string;
  timeouts?: ActivityTimeouts;
}

export interface IngestResult {
  datasetVersionId: string;
  version: number;
  /** False when the same content was already a version of this dataset. */
  created: boolean;
}

export interface TrainingRequest {
  projectId: string;
  datasetVersionId: string;
  target: string;
  /** Empty means every numeric column but the target. */
  features: string[];
  spec: ModelSpec;
  /** Hold rows out by a hash of this column (rows sharing a value stay together); absent: by a hash of the row's content. */
  splitKey?: string;
  /** The task the user declared; absent means: infer it from the target column. */
  task?: Task;
  accelerator: Accelerator;
  /** The task queue that runs training activities for this accelerator. */
  trainingTaskQueue: string;
  timeouts?: ActivityTimeouts;
}

export interface TrainResult {
  trainingRunId: string;
  modelUri: string;
  features: string[];
  /** Absent in results from before regression: those were classifiers. */
  task?: TaskChoice;
  /** The classes in label order; null for regression. */
  classes: string[] | null;
  backend: string;
  finalLoss: number;
}

export interface ExportInput {
  trainingRunId: string;
  modelUri: string;
  timeouts?: ActivityTimeouts;
}

export interface ExportResult {
  onnxUri: string;
  onnxSha256: string;
}


/** Fields past `onnxUri` are absent in histories from before evaluation decided the blessing; then the registry decides it. */
export interface EvaluateInput {
  trainingRunId: string;
  modelUri: string;
  onnxUri: string;
  timeouts?: ActivityTimeouts;
  projectId?: string;
  /** The registered model whose `production` version is the champion. */
  modelName?: string;
  thresholds?: Threshold[];
  minAccuracy?: number;
  minR2?: number | null;
  slices?: string[];
  fairness?: FairnessRequest;
}

interface SummaryCommon {
  rows: number;
  /** Whether every threshold passed; absent when the registry decides (older histories). */
  blessed?: boolean;
  /** The failing thresholds' messages. */
  failedThresholds?: string[];
  /** The champion this candidate was compared with on the same rows, e.g. "v3"; null when none (absent in older summaries). */
  champion?: string | null;
  /** Largest ONNX vs TensorFlow.js difference on held-out rows (regression: in target standard deviations). */
  parityMaxAbsDiff: number;
}

export interface ClassificationSummary extends SummaryCommon {
  /** Absent in summaries from before regression. */
  task?: 'classification';
  accuracy: number;
  rocAuc: number | null;
  logLoss: number;
  macroF1?: number;
}

export interface RegressionSummary extends SummaryCommon {
  task: 'regression';
  rmse: number;
  mae: number;
  r2: number;
}

export type EvaluationSummary = ClassificationSummary | RegressionSummary;

export interface InfraValidateInput {
  trainingRunId: string;
  /** The candidate exactly as it would be served. */
  onnxUri: string;
  /** Budget for the p99 latency of one-row calls; absent means the default (50 ms). */
  latencyBudgetMs?: number;
  timeouts?: ActivityTimeouts;
}

export type { InfraValidationResult } from '../../domain/infra-validation';

export interface RegisterInput {
  projectId: string;
  modelName: string;
  trainingRunId: string;
  onnxUri: string;
  onnxSha256: string;
  minAccuracy: number;
  /** Regression's blessing floor on R²; absent or null means none. */
  minR2?: number | null;
}

export interface RegisterResult {
  modelVersionId: string;
  modelName: string;
  version: number;
  blessed: boolean;
  reasons: string[];
}

export interface DeployInput {
  projectId: string;
  endpointName: string;
  modelVersionId: string;
  reason: string;
  /** False when a promotion stage already moved the alias; absent (old histories) means move it. */
  moveProductionAlias?: boolean;
}

export interface DeployResult {
  endpointId: string;
  endpointName: string;
  modelVersionId: string;
  /** With a pipeline rollout: the controller's rollout, the strategy it runs, and why it differs from the one asked for. */
  rollout?: { controllerWorkflowId: string; rolloutId: string; strategy: RolloutStrategyName; requested: RolloutStrategyName; steps: number; note: string | null };
}


/** A pipeline's rollout as its status and result show it: where it runs, and how it ended with each gate's last reading. */
export interface PipelineRolloutStatus {
  controllerWorkflowId: string;
  rolloutId: string;
  /** The strategy run; differs from `requested` on an endpoint's first version (see `note`). */
  strategy: RolloutStrategyName;
  requested: RolloutStrategyName;
  note: string | null;
  status: RolloutStatus;
  steps: number;
  gates: GateReading[];
  breached: GateReading | null;
  outcome: string | null;
  failure: string | null;
}

export interface PipelineInput extends TrainingRequest {
  endpointName: string;
  modelName: string;
  minAccuracy: number;
  minR2?: number | null;
  /** How the candidate is promoted after it is blessed; absent (old histories, or no promotion asked): deploy at once. */
  promotion?: PromotionPolicy;
  /** The API key that started the pipeline: it may not approve its own model (four eyes). */
  requestedBy?: string;
  /** String columns to slice the evaluation by. */
  slices?: string[];
  fairness?: FairnessRequest;
  /** Roll the blessed version out with this strategy and gates, and wait for the outcome; absent: allAtOnce. */
  rollout?: PipelineRollout;
}

export type PipelineStage = 'train' | 'export' | 'evaluate' | 'register' | 'infra-validate' | 'promote' | 'deploy' | 'rollout' | 'done' | 'rejected' | 'failed';

export interface TrainingProgress {
  epoch: number;
  epochs: number;
  loss: number;
}

export interface PipelineStatus {
  stage: PipelineStage;
  training: TrainingProgress | null;
  trainingRunId: string | null;
  /** The task trained and why; known once training has finished (the 202 answer says it at once). */
  task?: TaskChoice | null;
  evaluation: EvaluationSummary | null;
  modelVersion: { id: string; name: string; version: number } | null;
  endpoint: string;
  error: string | null;
  /** The promotion stage's child workflow and its wait, when the pipeline has one. */
  promotion?: { workflowId: string; runId: string; state: PromotionState; waitingSince: string | null; decision: PromotionDecision | null } | null;
  /** Why the pipeline stopped at `rejected`: the failing threshold, or the approval rejected or timed out. */
  rejection?: string | null;
  /** The serving-runtime check of the blessed candidate (rows, latency), once it passed. */
  infraValidation?: InfraValidationResult | null;
  /** The rollout the pipeline waits on (stage `rollout`), and how it ended; live steps at GET /v1/endpoints/{name}. */
  rollout?: PipelineRolloutStatus | null;
}

export interface PipelineResult {
  stage: 'done' | 'rejected';
  trainingRunId: string;
  evaluation: EvaluationSummary;
  modelVersion: RegisterResult;
  deployment: DeployResult | null;
  /** The promotion stage's outcome, when the pipeline had one. */
  promotion?: PromoteResult | null;
  rejection?: string | null;
  /** How the pipeline's rollout ended, when it asked for one. */
  rollout?: PipelineRolloutStatus | null;
}



/** What a promotion decides: move `alias` of a model to a version, after a human approval when required. */
export interface PromoteInput {
  projectId: string;
  modelName: string;
  modelVersionId: string;
  version: number;
  alias: 'production' | 'staging' | 'challenger';
  reason: string;
  /** An API key id, or `workflow:<id>`: this requester may not approve its own promotion (four eyes). */
  requestedBy: string;
  requireApproval: boolean;
  /** No decision within this many milliseconds means reject. */
  approvalTimeoutMs: number;
}

/** A decision sent to a waiting promotion (the `approval` Update); `by` is the deciding API key id. */
export interface ApprovalDecisionInput {
  decision: 'approve' | 'reject';
  reason: string;
  by: string;
}

export interface PromotionDecision {
  decision: 'approved' | 'rejected';
  /** An API key id; `workflow:<id>` when no approval was required; `timeout` when nobody decided in time. */
  by: string;
  reason: string;
  /** ISO time of the decision. */
  at: string;
}

export type PromotionState = 'waiting_for_approval' | 'moving' | 'promoted' | 'rejected';

export interface PromotionStatus {
  state: PromotionState;
  modelName: string;
  version: number;
  alias: string;
  requestedBy: string;
  /** ISO time the promotion started waiting for a decision; null when no approval is required. */
  waitingSince: string | null;
  decision: PromotionDecision | null;
}

export interface PromoteResult {
  promoted: boolean;
  decision: PromotionDecision;
  fromVersionId: string | null;
  toVersionId: string;
}

/** A promotion undone because the canary that followed it was rolled back: the alias goes back to `toVersionId`. */
export interface RevertPromotionInput {
  projectId: string;
  alias: PromoteInput['alias'];
  /** The version the promotion moved the alias to (the one rolled back). */
  promotedVersionId: string;
  toVersionId: string;
  reason: string;
  /** The pipeline: names the move, so it happens once. */
  workflowId: string;
}

export interface RevertPromotionResult {
  /** False when the alias no longer pointed at the promoted version (already reverted, or moved by someone since). */
  reverted: boolean;
  aliasVersionId: string | null;
}

/** What the promotion activity writes: the decision on the version and in the audit log, and the alias move when approved. */
export interface SettlePromotionInput {
  projectId: string;
  modelVersionId: string;
  alias: PromoteInput['alias'];
  decision: PromotionDecision;
  reason: string;
  workflowId: string;
}

export interface SettlePromotionResult {
  fromVersionId: string | null;
  toVersionId: string;
}
