import { RetryState, TimeoutType } from '@temporalio/common';
import { ActivityFailure, ApplicationFailure, isCancellation, TimeoutFailure } from '@temporalio/workflow';
import { cancelledOutcome, errorKinds, type ErrorKind, type ExecutionStatus, type TerminalOutcome } from '../domain/execution-status.js';
import type { StoppedRun } from '../contract/execution-activities.js';
import type { AgentRunSummary, RunFailureDetails } from '../domain/execution-types.js';

function isErrorKind(type: string | undefined | null): type is ErrorKind {
  return (errorKinds as readonly string[]).includes(type ?? '');
}

/** The terminal outcome of an agent run that finished on the agent. */
export function outcomeFromRun(run: AgentRunSummary): TerminalOutcome {
  switch (run.status) {
    case 'succeeded':
      return { status: 'succeeded', exitCode: run.exitCode };
    case 'cancelled':
      return { status: 'cancelled', errorKind: 'agent_cancelled', error: run.error ?? 'stopped on the agent', exitCode: run.exitCode };
    case 'failed':
      return { status: 'failed', errorKind: 'agent_failed', error: run.error ?? 'agent run failed', exitCode: run.exitCode };
  }
}

/**
 * An activity asked to cancel whose attempt ended some other way (its worker died before it could
 * confirm: a timeout; its worker was shutting down: the handover) ends with that attempt's failure,
 * but the cancel is why it was not retried, and the cancel is what ended it.
 */
function notRetriedForCancel(err: unknown): boolean {
  return err instanceof ActivityFailure && err.retryState === RetryState.CANCEL_REQUESTED;
}

/**
 * A run that succeeded but whose final usage report put its cost over the execution's own budget
 * (a run too short for any report while it ran to show it): \`failed/budget_exceeded\`, its exit
 * code and output kept, the error saying that its work finished. Undefined when within the budget,
 * or when the run failed or was stopped anyway (its own ending says more).
 */
export function overBudgetAtEnd(run: AgentRunSummary, maxCostUsd: number | undefined): TerminalOutcome | undefined {
  if (run.status !== 'succeeded' || maxCostUsd === undefined || run.costUsd === undefined || run.costUsd <= maxCostUsd) return undefined;
  return {
    status: 'failed',
    errorKind: 'budget_exceeded',
    error: `the run finished its work, but its final report put its cost at ${run.costUsd} USD, over its budget of ${maxCostUsd} USD (its output is kept)`,
    exitCode: run.exitCode,
  };
}

export const queueTimedOut: TerminalOutcome = {
  status: 'timed_out',
  errorKind: 'queue_timeout',
  error: 'no capacity slot became free within the queue timeout',
};

/**
 * Its timeout ended the activity: a timeout of its own, or retries cut off because the next attempt
 * would start past it (then the cause is the last attempt's failure, a dead worker's or a deploy's).
 */
function endedByTimeout(err: unknown): err is ActivityFailure {
  return (
    err instanceof ActivityFailure &&
    (err.cause instanceof TimeoutFailure || err.retryState === RetryState.TIMEOUT) &&
    !notRetriedForCancel(err)
  );
}

/** The slot wait's only timeouts are the queue timeout and the attempts it bounds: either way no slot came in time. */
export function isSlotWaitTimeout(err: unknown): boolean {
  return endedByTimeout(err);
}

/** The terminal outcome of a failure thrown by the execution's work (the slot wait's own timeout aside). */
export function outcomeFromFailure(err: unknown, stopReason: string | undefined): TerminalOutcome {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  const retryState = err instanceof ActivityFailure ? err.retryState : undefined;
  if (isCancellation(err) || notRetriedForCancel(err)) return cancelledOutcome(stopReason);
  if (cause instanceof TimeoutFailure) {
    // A worker that died too close to the deadline for another attempt leaves a heartbeat timeout as
    // the last failure, but what ended the run is the deadline.
    if (cause.timeoutType === TimeoutType.HEARTBEAT && retryState !== RetryState.TIMEOUT) {
      return {
        status: 'failed',
        errorKind: 'heartbeat_timeout',
        error: 'the worker running the agent stopped heartbeating on every attempt',
      };
    }
    return { status: 'timed_out', errorKind: 'deadline_exceeded', error: 'the execution ran past its timeout' };
  }
  if (retryState === RetryState.TIMEOUT && !(cause instanceof ApplicationFailure && cause.nonRetryable)) {
    // Attempts that kept failing for a passing reason (a worker lost, a deploy, Postgres away) until the deadline.
    return {
      status: 'timed_out',
      errorKind: 'deadline_exceeded',
      error: `the execution ran past its timeout (last attempt: ${failureMessage(err)})`,
    };
  }
  if (cause instanceof ApplicationFailure && isErrorKind(cause.type)) {
    return { status: cause.type === 'agent_stalled' ? 'timed_out' : 'failed', errorKind: cause.type, error: cause.message };
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  return { status: 'failed', errorKind: 'internal_error', error: message };
}

/** After these the agent cannot be reached or has no such process: asking it to stop only delays compensation. */
export function agentCannotBeStopped(outcome: TerminalOutcome): boolean {
  return outcome.errorKind === 'agent_unreachable' || outcome.errorKind === 'agent_lost_execution';
}

/** How a failed or timed-out execution fails its workflow: the failure's type is the row's error kind. */
export function executionFailure(outcome: TerminalOutcome): ApplicationFailure {
  return ApplicationFailure.nonRetryable(outcome.error ?? outcome.status, outcome.errorKind ?? 'internal_error');
}

/** A second run of an execution whose row had already ended (a Reset, a start reusing its id): it runs nothing. */
export function alreadyFinishedFailure(executionId: string, status: ExecutionStatus): ApplicationFailure {
  const kind: ErrorKind = 'already_finished';
  return ApplicationFailure.nonRetryable(`execution ${executionId} is already ${status}`, kind);
}

/** The run activity said the agent refused its start: there is no process to stop. */
export function processNeverStarted(err: unknown): boolean {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  const details = cause instanceof ApplicationFailure ? (cause.details?.[0] as Partial<RunFailureDetails> | undefined) : undefined;
  return details?.processStarted === false;
}

/** The run activity found the row ended by another hand before the agent got the run. */
export function rowClosedElsewhere(err: unknown): boolean {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  const kind: ErrorKind = 'closed_outside_workflow';
  return cause instanceof ApplicationFailure && cause.type === kind;
}

/**
 * What failed, not that an activity did or that its retries ran out of time: the message of the
 * innermost cause (the last attempt's own failure) where there is one.
 */
export function failureMessage(err: unknown): string {
  let innermost = err;
  while (innermost instanceof Error && innermost.cause instanceof Error) innermost = innermost.cause;
  return innermost instanceof Error ? innermost.message : String(innermost);
}

/**
 * The agent's record says the run ended by itself (succeeded or failed, not stopped) no later than
 * its deadline (or the moment a stop was requested): then that is how it ended, whatever the worker
 * or the poll saw. A record without its finish time cannot show that: the stop or deadline stands.
 */
export function finishedByItself(record: StoppedRun, deadline: number): boolean {
  if (record.status !== 'succeeded' && record.status !== 'failed') return false;
  return record.finishedAt !== undefined && Date.parse(record.finishedAt) <= deadline;
}

/** A stop, a Cancel or the deadline, at its moment in workflow time: what ended the run, unless the agent's own result came first. */
export interface EndRequest {
  /** Workflow time, in ms since the epoch. */
  at: number;
  /** For the audit: "the stop was requested", "the cancel was requested", "its deadline". */
  what: string;
}

/**
 * The run succeeded or failed by the agent's report, but finished only after the stop (the Cancel,
 * the deadline) was requested: what the audit says about that result. Undefined when the result came
 * in time, or was the stop's own (`cancelled`).
 */
export function lateResultNote(record: StoppedRun, request: EndRequest): string | undefined {
  if (record.status === 'cancelled' || finishedByItself(record, request.at) || !Number.isFinite(request.at)) return undefined;
  const when = record.finishedAt === undefined ? 'with no finish time' : `at ${record.finishedAt}`;
  return `the agent reported ${record.status} ${when}, after ${request.what} at ${new Date(request.at).toISOString()}`;
}

/** The outcome of the stop (Cancel, deadline) that a late result does not override: with the process's exit code and the note. */
export function withLateResult(outcome: TerminalOutcome, record: StoppedRun, note: string): TerminalOutcome {
  return { ...outcome, error: outcome.error === undefined ? note : `${outcome.error} (${note})`, exitCode: record.exitCode };
}
