import { ApplicationFailure, CancelledFailure, TerminatedFailure, TimeoutFailure } from '@temporalio/common';
import type { FailureCause } from '../../domain/failure';
import type { UserFailureDetails } from './failures';

export type { FailureCause };

/**
 * Walks the `.cause` chain of ActivityFailure / ChildWorkflowFailure / ApplicationFailure / CancelledFailure
 * down to the failure that actually happened, so rows say "too few rows", not "Activity task failed".
 */
export function describeFailure(err: unknown, stage: string): FailureCause {
  let root: unknown = err;
  for (let depth = 0; root instanceof Error && root.cause instanceof Error && depth < 20; depth++) root = root.cause;
  // A cancellation anywhere in the chain is what the user did, whatever wraps it.
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 20; e = e.cause, depth++) {
    if (e instanceof CancelledFailure) return { stage, type: 'cancelled', code: null, message: e.message || 'cancelled' };
  }
  if (root instanceof ApplicationFailure) {
    const first = root.details?.[0] as Partial<UserFailureDetails> | undefined;
    return { stage, type: root.type ?? 'ApplicationFailure', code: typeof first?.code === 'string' ? first.code : null, message: root.message };
  }
  if (root instanceof TerminatedFailure) return { stage, type: 'terminated', code: null, message: root.message || 'terminated' };
  if (root instanceof TimeoutFailure) return { stage, type: 'timeout', code: root.timeoutType !== undefined ? String(root.timeoutType) : null, message: root.message || 'timed out' };
  if (root instanceof Error) return { stage, type: root.name || 'Error', code: null, message: root.message };
  return { stage, type: 'Error', code: null, message: String(root) };
}

/** One line for a `failure` column: `evaluate: OnnxParityFailed: The ONNX export differs …`. */
export function formatFailure(cause: FailureCause): string {
  const kind = cause.code ? `${cause.type} (${cause.code})` : cause.type;
  return `${cause.stage}: ${kind}: ${cause.message}`;
}
