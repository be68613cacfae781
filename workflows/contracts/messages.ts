import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ApprovalDecisionInput, PipelineStatus, PromotionDecision, PromotionStatus, TrainingProgress } from './types';

/** Live status of a pipeline: stage, epoch, loss, results so far. */
export const pipelineStatusQuery = defineQuery<PipelineStatus>('pipelineStatus');

/** Sent by the training activity after each epoch to the workflow that reports progress. */
export const trainingProgressSignal = defineSignal<[TrainingProgress]>('trainingProgress');

/** Training progress of a standalone training workflow. */
export const trainingProgressQuery = defineQuery<TrainingProgress | null>('trainingProgress');

/** A promotion's state: waiting for approval (since when), moving, promoted or rejected, and the decision. */
export const promotionStatusQuery = defineQuery<PromotionStatus>('promotionStatus');

/** A human's decision on a waiting promotion; its validator refuses it unless the promotion waits and the decider is not the requester. */
export const approvalUpdate = defineUpdate<PromotionDecision, [ApprovalDecisionInput]>('approval');
