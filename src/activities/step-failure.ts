import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { classifyFailure, failureClasses, unexpectedFailureAttempts } from '../domain/failure-classes.js';

/**
 * Runs a step's body and hands Temporal its failure as the domain's table classifies it: a
 * permanent one as non-retryable with its error kind, an unexpected one non-retryable after a few
 * attempts, an infrastructure one as it is (retried) until `boundSeconds` after the step was first
 * scheduled (unset: the step's own timeout is the bound).
 */
export async function classified<T>(body: () => Promise<T>, boundSeconds?: number): Promise<T> {
  try {
    return await body();
  } catch (err) {
    throw asStepFailure(err, boundSeconds);
  }
}

function asStepFailure(err: unknown, boundSeconds: number | undefined): unknown {
  if (err instanceof CancelledFailure || (err instanceof ApplicationFailure && err.nonRetryable)) return err;
  const { info } = Context.current();
  const failureClass = classifyFailure(err);
  const spec = failureClasses[failureClass];
  const message = err instanceof Error ? err.message : String(err);
  if (spec.retry === 'never') return ApplicationFailure.create({ type: spec.errorKind, message, nonRetryable: true });
  if (spec.retry === 'few_attempts') {
    if (info.attempt < unexpectedFailureAttempts) return err;
    return ApplicationFailure.create({
      type: spec.errorKind,
      message: `${message} (on each of ${info.attempt} attempts)`,
      nonRetryable: true,
    });
  }
  const waitedSeconds = Math.round((Date.now() - info.scheduledTimestampMs) / 1000);
  if (boundSeconds === undefined || waitedSeconds < boundSeconds) return err;
  return ApplicationFailure.create({
    type: 'internal_error',
    message: `${message} (still failing after ${waitedSeconds} s, limit ${boundSeconds} s)`,
    nonRetryable: true,
  });
}
