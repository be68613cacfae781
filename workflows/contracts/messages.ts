import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { PipelineStatus, TrainingProgress } from './types';

/** Live status of a pipeline: stage, epoch, loss, results so far. */
export const pipelineStatusQuery = defineQuery<PipelineStatus>('pipelineStatus');

/** Sent by the training activity after each epoch to the workflow that reports progress. */
export const trainingProgressSignal = defineSignal<[TrainingProgress]>('trainingProgress');

/** Training progress of a standalone training workflow. */
export const trainingProgressQuery = defineQuery<TrainingProgress | null>('trainingProgress');
