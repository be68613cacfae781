import { defineQuery } from '@temporalio/workflow';
import type { RetrainOutcome, RetrainPolicyUsed, RetrainTrigger } from '../../domain/retrain';

export type { RetrainRequestResult } from '../../domain/retrain';
import type { PipelineInput } from './types';

export interface ClaimRetrainInput {
  projectId: string;
  endpointName: string;
  trigger: RetrainTrigger;
  workflowId: string;
  /** A scheduled run's scheduled time (TemporalScheduledStartTime), which names its episode. */
  scheduledAt?: string | null;
}

export interface ClaimRetrainResult {
  /** False: another retrain of the model runs, or this episode was already retrained by another run. */
  owned: boolean;
  status: 'running' | 'succeeded' | 'failed' | 'skipped';
  episode: string;
  modelName: string;
  /** The retrain that holds the model (skipped) or the episode (claimed before). */
  otherWorkflowId: string | null;
  /** Which attempt of the episode this claim is (absent in results from before attempts were counted: 1 of 1). */
  attempt?: number;
  maxAttempts?: number;
}

/** What ending a claim recorded: a failed attempt with attempts left says when the next may start. */
export interface FinishedRetrain {
  attempt: number;
  maxAttempts: number;
  nextAttemptAt: string | null;
}

/** Guards the `retrain.failed` webhook event, so retrain histories recorded before it replay. */
export const RETRAIN_FAILED_EVENT = 'retrain-failed-event';

/** The webhook event of one failed retrain attempt (its workflow): delivered once however often the run is replayed. */
export function retrainFailedEventId(retrainWorkflowId: string): string {
  return `retrain.failed:${retrainWorkflowId}`;
}

/** What the retrain starts its pipeline from: the endpoint's stable version, its training run and the pipeline that trained it. */
export interface RetrainBase {
  baseModelVersionId: string;
  baseModel: { name: string; version: number };
  /** When the base version first took traffic on the endpoint: the feedback window starts there. */
  deployedAt: string;
  /** The training run's target, features, spec and task under the stored policy, with the monitoring config's `retrain.model` applied. */
  pipeline: Omit<PipelineInput, 'datasetVersionId'>;
  /** The stored policy `pipeline` follows; absent in results recorded before policies were stored (they read the base pipeline's history). */
  policy?: RetrainPolicyUsed;
}

export type RetrainStage = 'claim' | 'dataset' | 'pipeline' | 'done' | 'skipped' | 'failed';

export interface RetrainStatus {
  stage: RetrainStage;
  episode: string | null;
  base: { modelVersionId: string; name: string; version: number } | null;
  window: { from: string; to: string } | null;
  datasetVersionId: string | null;
  pipelineWorkflowId: string | null;
  /** The stored policy the retrain's pipeline follows, once the base is read. */
  policy?: RetrainPolicyUsed | null;
  outcome: RetrainOutcome | null;
  error: string | null;
}

export interface RetrainResult {
  status: 'succeeded' | 'skipped' | 'claimed_before';
  episode: string;
  /** skipped: the running retrain of the model; claimed_before: the run that holds this episode. */
  otherWorkflowId?: string | null;
  outcome?: RetrainOutcome;
}

export const retrainStatusQuery = defineQuery<RetrainStatus>('retrainStatus');

/** The retrain's pipeline: a child named after the retrain, so a retried retrain finds it. */
export function retrainPipelineWorkflowId(retrainWorkflowId: string): string {
  return `${retrainWorkflowId}/pipeline`;
}
