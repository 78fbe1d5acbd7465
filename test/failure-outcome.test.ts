import { ActivityFailure, RetryState, TimeoutFailure, TimeoutType } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { outcomeFromFailure } from '../src/workflows/failure-outcome.js';

const heartbeatTimeout = (retryState: RetryState) =>
  new ActivityFailure(
    'activity timed out',
    'runAgent',
    '5',
    retryState,
    'worker-1',
    new TimeoutFailure('heartbeat timeout', undefined, TimeoutType.HEARTBEAT),
  );

describe('the outcome of a failed run activity', () => {
  it('is a heartbeat timeout when every attempt lost its worker', () => {
    expect(outcomeFromFailure(heartbeatTimeout(RetryState.MAXIMUM_ATTEMPTS_REACHED), undefined)).toMatchObject({
      status: 'failed',
      errorKind: 'heartbeat_timeout',
    });
  });

  it('is the deadline when a worker died too close to it for another attempt', () => {
    expect(outcomeFromFailure(heartbeatTimeout(RetryState.TIMEOUT), undefined)).toMatchObject({
      status: 'timed_out',
      errorKind: 'deadline_exceeded',
    });
  });

  it('is a cancellation when the worker died while the activity was being cancelled', () => {
    expect(outcomeFromFailure(heartbeatTimeout(RetryState.CANCEL_REQUESTED), undefined)).toMatchObject({
      status: 'cancelled',
      errorKind: 'cancelled_by_operator',
    });
    expect(outcomeFromFailure(heartbeatTimeout(RetryState.CANCEL_REQUESTED), 'wrong agent')).toMatchObject({
      status: 'cancelled',
      errorKind: 'cancelled_by_operator',
      error: 'stopped by operator: wrong agent',
    });
  });
});
