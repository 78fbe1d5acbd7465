import { ActivityFailure, ApplicationFailure, RetryState, TimeoutFailure, TimeoutType } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import {
  finishedByItself,
  isSlotWaitTimeout,
  lateResultNote,
  outcomeFromFailure,
  withLateResult,
} from '../../src/workflows/failure-outcome.js';
import { cancelledOutcome } from '../../src/domain/execution-status.js';

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

  it('is a cancellation when the cancel came while a deploy handed the run over', () => {
    // Seen in the chaos run: Cancel in the UI while the run's worker was shutting down.
    const handover = ApplicationFailure.create({ type: 'worker_shutdown', message: 'this worker is shutting down' });
    const err = new ActivityFailure('activity failed', 'runAgent', '5', RetryState.CANCEL_REQUESTED, 'worker-1', handover);
    expect(outcomeFromFailure(err, undefined)).toMatchObject({ status: 'cancelled', errorKind: 'cancelled_by_operator' });
  });

  it('is the deadline when attempts failing for a passing reason ran into it, not that reason', () => {
    const lastAttempt = ApplicationFailure.create({ type: 'worker_shutdown', message: 'this worker is shutting down' });
    const err = new ActivityFailure('activity failed', 'runAgent', '5', RetryState.TIMEOUT, 'worker-1', lastAttempt);
    expect(outcomeFromFailure(err, undefined)).toEqual({
      status: 'timed_out',
      errorKind: 'deadline_exceeded',
      error: 'the execution ran past its timeout (last attempt: this worker is shutting down)',
    });
    expect(isSlotWaitTimeout(new ActivityFailure('activity failed', 'acquireSlot', '3', RetryState.TIMEOUT, 'w', lastAttempt))).toBe(true);
  });

  it('ends a stalled run timed out, not failed', () => {
    const stalled = ApplicationFailure.create({ type: 'agent_stalled', message: 'no progress for 30 s', nonRetryable: true });
    const err = new ActivityFailure('activity failed', 'runAgent', '5', RetryState.NON_RETRYABLE_FAILURE, 'worker-1', stalled);
    expect(outcomeFromFailure(err, undefined)).toEqual({ status: 'timed_out', errorKind: 'agent_stalled', error: 'no progress for 30 s' });
  });

  it('ends a run over its budget failed', () => {
    const spent = ApplicationFailure.create({ type: 'budget_exceeded', message: 'cost of 2 USD', nonRetryable: true });
    const err = new ActivityFailure('activity failed', 'runAgent', '5', RetryState.NON_RETRYABLE_FAILURE, 'worker-1', spent);
    expect(outcomeFromFailure(err, undefined)).toEqual({ status: 'failed', errorKind: 'budget_exceeded', error: 'cost of 2 USD' });
  });

  it('keeps the kind of a permanent failure', () => {
    const refused = ApplicationFailure.create({ type: 'agent_rejected', message: '401', nonRetryable: true });
    const err = new ActivityFailure('activity failed', 'runAgent', '5', RetryState.NON_RETRYABLE_FAILURE, 'worker-1', refused);
    expect(outcomeFromFailure(err, undefined)).toMatchObject({ status: 'failed', errorKind: 'agent_rejected', error: '401' });
  });
});

describe('a result the agent reports against the moment a stop was requested', () => {
  const stopAt = Date.parse('2026-12-06T10:00:00.000Z');
  const stop = { at: stopAt, what: 'the stop was requested' };
  const succeededAt = (at: number) => ({
    status: 'succeeded' as const,
    exitCode: 0,
    error: null,
    outputBytes: 3,
    finishedAt: new Date(at).toISOString(),
  });

  it('wins when it finished at or before the request, to the millisecond', () => {
    expect(finishedByItself(succeededAt(stopAt), stopAt)).toBe(true);
    expect(lateResultNote(succeededAt(stopAt), stop)).toBeUndefined();
    expect(finishedByItself(succeededAt(stopAt + 1), stopAt)).toBe(false);
  });

  it('loses when it finished after, or says nothing of when: the stop stands, with the exit code and a note', () => {
    const note = lateResultNote(succeededAt(stopAt + 1), stop);
    expect(note).toBe('the agent reported succeeded at 2026-12-06T10:00:00.001Z, after the stop was requested at 2026-12-06T10:00:00.000Z');
    expect(withLateResult(cancelledOutcome('enough'), succeededAt(stopAt + 1), note!)).toEqual({
      status: 'cancelled',
      errorKind: 'cancelled_by_operator',
      error: `stopped by operator: enough (${note})`,
      exitCode: 0,
    });
    const { finishedAt: _unknown, ...undated } = succeededAt(stopAt);
    expect(lateResultNote({ ...undated, status: 'failed', exitCode: 2 }, stop)).toMatch(
      /^the agent reported failed with no finish time, after /,
    );
  });

  it("notes nothing for the stop's own ending, nor against a deadline never set", () => {
    expect(lateResultNote({ ...succeededAt(stopAt + 1), status: 'cancelled' }, stop)).toBeUndefined();
    const { finishedAt: _unknown, ...undated } = succeededAt(stopAt);
    expect(lateResultNote(undated, { at: Infinity, what: 'its deadline' })).toBeUndefined();
  });
});
