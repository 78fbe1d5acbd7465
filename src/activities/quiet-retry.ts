import { ApplicationFailure, CancelledFailure } from '@temporalio/activity';
import { ApplicationFailureCategory } from '@temporalio/common';
import type { Logger } from '../util/logger.js';

/**
 * A step retried for long on purpose (the stop of an agent process that will not confirm its end,
 * retried for up to a day while its slot is held): the SDK logs every failed attempt as a warning
 * with the error's stack. Here each retryable failure is one line of ours, with its attempt, and
 * goes back to Temporal as the same retryable failure (same type and message, so the retry policy
 * and the workflow see what they saw) marked benign, which the SDK logs at debug level only.
 * Non-retryable failures and cancellations pass through as they are.
 */
export async function retriedQuietly<T>(log: Logger, what: string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof CancelledFailure || (err instanceof ApplicationFailure && err.nonRetryable)) throw err;
    const message = err instanceof Error ? err.message : String(err);
    // The activity logger already names the attempt.
    log.warn({ err: message }, `${what}; retrying`);
    const type = (err instanceof ApplicationFailure ? err.type : undefined) ?? (err instanceof Error ? err.name : 'Error');
    const failure = ApplicationFailure.create({ type, message, category: ApplicationFailureCategory.BENIGN });
    failure.stack = `${type}: ${message}`;
    throw failure;
  }
}
