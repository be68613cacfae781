/**
 * Retraining: what starts a retrain of an endpoint's model, and what its dataset version is built from.
 * Shared by the schedules API (a `retrain` schedule), the monitor (drift or a quality drop) and the retrain
 * workflow itself. The retrain workflow's type is `retrainEndpoint`.
 */
import type { ModelPolicySource } from './model-policy';

/** The workflow type a `retrain` schedule starts, and what drift starts. */
export const RETRAIN_WORKFLOW_TYPE = 'retrainEndpoint';

/** The workflow type a `monitor` schedule starts: it derives its window from the scheduled time and runs `monitorEndpoint`. */
export const SCHEDULED_MONITOR_WORKFLOW_TYPE = 'scheduledMonitor';

export type RetrainTrigger =
  /** A monitor run found drift or a quality drop on the version serving the endpoint. */
  | {
      kind: 'drift';
      monitorWorkflowId: string;
      /** The drifted report(s) of that run. */
      reportIds: string[];
      /** The version that drifted: with the episode, it names the retrain. */
      modelVersionId: string;
      window: { from: string; to: string };
      reasons: string[];
    }
  /** A `retrain` schedule fired (the scheduled time comes from the schedule's search attribute). */
  | { kind: 'schedule'; scheduleName: string }
  /** Someone asked for it through the API. */
  | { kind: 'manual'; requestedBy: string };

export interface RetrainInput {
  projectId: string;
  endpointName: string;
  trigger: RetrainTrigger;
}

/** The dataset version a retrain trains on: the previous training data and the labelled production traffic of a window. */
export interface BuildRetrainDatasetInput {
  projectId: string;
  endpointName: string;
  /** The version whose training data is the base (the endpoint's stable version when the retrain started). */
  baseModelVersionId: string;
  /** Labelled predictions answered by the endpoint in [from, to) are appended (stable and canary routes, not shadow, no errors). */
  window: { from: string; to: string };
  /** Names the new version's ingest run, so a retried activity finds what it wrote. */
  workflowId: string;
}

export interface BuildRetrainDatasetResult {
  datasetVersionId: string;
  dataset: string;
  version: number;
  rows: number;
  baseDatasetVersionId: string;
  baseRows: number;
  /** Labelled production rows appended. */
  feedbackRows: number;
  /** Labels left out because the base model could not have learnt them, by reason. */
  skippedLabels: SkippedLabels;
  /** False when the same content was already a version (the existing one is returned). */
  created: boolean;
}

/** How a dataset version built by a retrain is described in `dataset_versions.source` (and so in lineage). */
export interface RetrainDatasetSource {
  kind: 'retrain';
  baseDatasetVersionId: string;
  baseRows: number;
  feedback: {
    endpoint: string;
    from: string;
    to: string;
    rows: number;
    /** The model versions whose answers were labelled. */
    modelVersionIds: string[];
    /** Labels left out, by reason (absent on sources written before labels were checked). */
    skipped?: SkippedLabels;
  };
  workflowId: string;
}

/** Which stored model policy a retrain followed: the endpoint's override, the model's, or none ever set; and its version. */
export interface RetrainPolicyUsed {
  source: ModelPolicySource;
  version: number | null;
}

/** What a finished (or skipped) retrain claim records. */
export interface RetrainOutcome {
  /** Skipped: the retrain of the same model that was running. */
  skippedFor?: string;
  /** The pipeline's end: `done` (deployed), `rejected` (not blessed or not approved). */
  pipelineStage?: 'done' | 'rejected';
  rejection?: string | null;
  modelVersion?: { id: string; name: string; version: number; blessed: boolean } | null;
  dataset?: { datasetVersionId: string; version: number; rows: number; feedbackRows: number; window: { from: string; to: string } };
  /** The stored policy the retrain followed (absent on retrains recorded before policies were stored). */
  policy?: RetrainPolicyUsed;
  error?: string;
}

/** What a monitor run did about one drifted report. */
export interface RetrainRequestResult {
  reportId: string;
  /** started: this alarm claimed the episode and started the retrain; claimed_before: the episode's retrain exists (running or done). */
  outcome: 'started' | 'claimed_before' | 'skipped' | 'disabled';
  /** The episode's retrain workflow (for `skipped`: the running retrain of the model). */
  workflowId: string | null;
  episode: string | null;
  reason: string;
}

/**
 * Why a label in the window did not become a training row: a class the base model never had, or a value that is
 * not a number for a regression. Skipped and counted rather than failing the retrain: the loop keeps closing on
 * the labels that fit, and a new class is a change of task someone should make deliberately, not a side effect.
 */
export type SkippedLabelReason = 'unknown_class' | 'not_a_number';
export type SkippedLabels = Record<SkippedLabelReason, number>;

/** The `code` of the NoLabelledTraffic failure (its type is `FailureType.NoLabelledTraffic`). */
export const NO_LABELLED_TRAFFIC = 'no_labelled_traffic';
