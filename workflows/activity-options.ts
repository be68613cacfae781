import type { ActivityOptions } from '@temporalio/workflow';
import type { ActivityTimeouts } from './contracts';

/** Production default: activities heartbeat every ≤5 s of work, so 30 s of silence means the worker is gone. */
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 30_000;

const retry: ActivityOptions['retry'] = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 };

function heartbeatTimeout(timeouts: ActivityTimeouts | undefined): number {
  return timeouts?.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS;
}

/**
 * Short database-only steps (prepare run, record dataset version, register, deploy, mark failed): they never
 * heartbeat, so they have no heartbeat timeout, and a start-to-close that only a hung connection reaches.
 */
export const databaseActivityOptions: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry,
};

/** Training: hours of compute; heartbeats every few seconds of it and resumes from its last checkpoint after a retry. */
export function trainingActivityOptions(timeouts?: ActivityTimeouts): ActivityOptions {
  return {
    startToCloseTimeout: '12 hours',
    heartbeatTimeout: heartbeatTimeout(timeouts),
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
  };
}

/** Profiling an upload (up to FACTORY_MAX_UPLOAD_BYTES of CSV): heartbeats per chunk of rows. */
export function ingestActivityOptions(timeouts?: ActivityTimeouts): ActivityOptions {
  return { startToCloseTimeout: '2 hours', heartbeatTimeout: heartbeatTimeout(timeouts), retry };
}

/**
 * Building a retrain's dataset version: re-reads the base version and pages through the window's labelled
 * answers, heartbeating per page; a retry starts over (the reads are cheap next to training) or finds the version it wrote.
 */
export function retrainDatasetActivityOptions(timeouts?: ActivityTimeouts): ActivityOptions {
  return { startToCloseTimeout: '2 hours', heartbeatTimeout: heartbeatTimeout(timeouts), retry };
}

/** Scoring the held-out rows with ONNX and TensorFlow.js: heartbeats per chunk of rows. */
export function evaluationActivityOptions(timeouts?: ActivityTimeouts): ActivityOptions {
  return { startToCloseTimeout: '1 hour', heartbeatTimeout: heartbeatTimeout(timeouts), retry };
}

/** Building and storing the ONNX graph: seconds even for wide models; heartbeats per step. */
export function exportActivityOptions(timeouts?: ActivityTimeouts): ActivityOptions {
  return { startToCloseTimeout: '15 minutes', heartbeatTimeout: heartbeatTimeout(timeouts), retry };
}

/** Collecting unreferenced artifacts: a whole-store scan that heartbeats per chunk; a retry starts over and finds less to do. */
export function artifactCollectionActivityOptions(timeouts?: ActivityTimeouts): ActivityOptions {
  return {
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: heartbeatTimeout(timeouts),
    retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 5 },
  };
}

/** How fast a webhook delivery retries; tests shorten it, production keeps the defaults. */
export interface WebhookRetry {
  initialIntervalMs?: number;
  maximumIntervalMs?: number;
}

/**
 * Delivering one webhook: retried with backoff for up to three days, so no event is lost while a receiver
 * is down; a receiver's 4xx (other than 408/429) fails it at once (non-retryable failure type).
 */
export function webhookDeliveryActivityOptions(retry: WebhookRetry = {}): ActivityOptions {
  return {
    startToCloseTimeout: '30 seconds',
    scheduleToCloseTimeout: '3 days',
    retry: {
      initialInterval: retry.initialIntervalMs ?? 1000,
      backoffCoefficient: 2,
      maximumInterval: retry.maximumIntervalMs ?? 10 * 60_000,
      // No attempt limit: scheduleToCloseTimeout bounds the retries instead.
      nonRetryableErrorTypes: ['WebhookRejected'],
    },
  };
}

/** Infra-validation: a child process loads the model and answers a few hundred calls; heartbeats between them. */
export function infraValidationActivityOptions(timeouts?: ActivityTimeouts): ActivityOptions {
  return { startToCloseTimeout: '10 minutes', heartbeatTimeout: heartbeatTimeout(timeouts), retry };
}

/**
 * A monitor run's drift SQL: one scan of the window per served version, a single statement that cannot
 * heartbeat, so a long start-to-close (10 M logged rows take tens of seconds on PostgreSQL) and no heartbeat timeout.
 */
export const monitorActivityOptions: ActivityOptions = {
  startToCloseTimeout: '30 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 5 },
};

/**
 * A pipeline waiting for its rollout: as long as the rollout's bakes (and any pause an operator makes), heartbeating
 * all along so another worker takes the wait up after a crash.
 */
export function rolloutWaitActivityOptions(timeouts?: ActivityTimeouts): ActivityOptions {
  return { startToCloseTimeout: '30 days', heartbeatTimeout: heartbeatTimeout(timeouts), retry };
}
