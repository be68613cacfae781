import type { ActivityOptions } from '@temporalio/workflow';

/** Short CPU activities: database writes, artifact reads, ONNX export, evaluation. */
export const cpuActivityOptions: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
};

/** Training: long, heartbeats every epoch, resumes from its last checkpoint after a retry. */
export const trainingActivityOptions: ActivityOptions = {
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
};
