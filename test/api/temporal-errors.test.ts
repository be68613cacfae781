import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, RetryState } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { rootCauseMessage, userErrorFromFailure } from '../../api/temporal-errors';
import { toApplicationFailure } from '../../workers/user-error-interceptor';
import { UserError } from '../../platform/user-error';

describe('user errors across the workflow boundary', () => {
  it('survive being wrapped in activity and child workflow failures', () => {
    const failure = toApplicationFailure(new UserError('ragged_row', 'Row 2 has 2 fields.', 422, { row: 2 })) as ApplicationFailure;
    expect(failure).toMatchObject({ type: 'InvalidInput', nonRetryable: true });
    const activity = new ActivityFailure('activity failed', 'profileUpload', '1', RetryState.NON_RETRYABLE_FAILURE, undefined, failure);
    const child = new ChildWorkflowFailure('default', { workflowId: 'ingest', runId: 'r' }, 'ingestDataset', RetryState.NON_RETRYABLE_FAILURE, activity);
    const restored = userErrorFromFailure(child);
    expect(restored).toMatchObject({ code: 'ragged_row', status: 422, message: 'Row 2 has 2 fields.', details: { row: 2 } });
    expect(rootCauseMessage(child)).toBe('Row 2 has 2 fields.');
  });

  it('maps not-found to 404 and leaves other errors alone', () => {
    expect(toApplicationFailure(new UserError('dataset_not_found', 'No dataset.', 404))).toMatchObject({ type: 'NotFound' });
    const plain = new Error('disk full');
    expect(toApplicationFailure(plain)).toBe(plain);
    expect(userErrorFromFailure(ApplicationFailure.retryable('flaky', 'Network'))).toBeUndefined();
  });
});
