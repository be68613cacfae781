import { ActivityFailure, ApplicationFailure, CancelledFailure, ChildWorkflowFailure, RetryState, TimeoutFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { describeFailure, formatFailure } from '../../../workflows/contracts';

const activityFailed = (cause: Error) => new ActivityFailure('Activity task failed', 'fitModel', '1', RetryState.NON_RETRYABLE_FAILURE, 'worker', cause);
const childFailed = (cause: Error) => new ChildWorkflowFailure('default', { workflowId: 'p/train', runId: 'r' }, 'trainModel', RetryState.NON_RETRYABLE_FAILURE, cause);

describe('describeFailure', () => {
  it('finds a typed user failure and its code under a child workflow and an activity', () => {
    const user = ApplicationFailure.create({ type: 'InvalidInput', message: 'Only 8 rows have every feature.', nonRetryable: true, details: [{ code: 'too_few_rows', status: 422, details: {} }] });
    const cause = describeFailure(childFailed(activityFailed(user)), 'train');
    expect(cause).toEqual({ stage: 'train', type: 'InvalidInput', code: 'too_few_rows', message: 'Only 8 rows have every feature.' });
    expect(formatFailure(cause)).toBe('train: InvalidInput (too_few_rows): Only 8 rows have every feature.');
  });

  it('keeps the type of a typed failure without details', () => {
    const parity = ApplicationFailure.create({ type: 'OnnxParityFailed', message: 'differs by 0.1', nonRetryable: true });
    expect(describeFailure(childFailed(activityFailed(parity)), 'evaluate')).toEqual({ stage: 'evaluate', type: 'OnnxParityFailed', code: null, message: 'differs by 0.1' });
  });

  it('says cancelled when a cancellation is anywhere in the chain', () => {
    expect(describeFailure(childFailed(activityFailed(new CancelledFailure('Activity cancelled'))), 'train')).toMatchObject({ type: 'cancelled', code: null });
    expect(describeFailure(new CancelledFailure('Workflow cancelled'), 'deploy')).toMatchObject({ stage: 'deploy', type: 'cancelled', message: 'Workflow cancelled' });
  });

  it('names timeouts and plain errors', () => {
    expect(describeFailure(activityFailed(new TimeoutFailure(undefined, undefined, 'HEARTBEAT')), 'train')).toMatchObject({ type: 'timeout', code: 'HEARTBEAT' });
    expect(describeFailure(new TypeError('x is undefined'), 'export')).toEqual({ stage: 'export', type: 'TypeError', code: null, message: 'x is undefined' });
    expect(describeFailure('boom', 'export')).toEqual({ stage: 'export', type: 'Error', code: null, message: 'boom' });
  });
});
