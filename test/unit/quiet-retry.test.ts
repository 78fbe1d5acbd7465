import { ApplicationFailure, CancelledFailure } from '@temporalio/activity';
import { ApplicationFailureCategory } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { retriedQuietly } from '../../src/activities/quiet-retry.js';
import { createLogger } from '../../src/util/logger.js';

/** A logger whose JSON lines land in an array. */
function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('test', 'debug', { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (err: unknown) => err,
  );

describe('a step retried quietly (a stop that keeps failing)', () => {
  it('logs one line per failed attempt, without a stack, and hands Temporal the same failure marked benign', async () => {
    const { log, lines } = capturedLogger();
    const cause = ApplicationFailure.create({ type: 'agent_unreachable', message: 'stop answered 500' });
    const failure = await failureOf(retriedQuietly(log, 'agent process not confirmed stopped', () => Promise.reject(cause)));

    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, msg: 'agent process not confirmed stopped; retrying', err: 'stop answered 500' });
    expect(JSON.stringify(lines[0])).not.toMatch(/\n\s+at /);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({
      type: 'agent_unreachable',
      message: 'stop answered 500',
      nonRetryable: false,
      category: ApplicationFailureCategory.BENIGN,
    });
    expect((failure as Error).stack).toBe('agent_unreachable: stop answered 500');
  });

  it('passes non-retryable failures and cancellations through as they are, unlogged', async () => {
    const { log, lines } = capturedLogger();
    const final = ApplicationFailure.create({ type: 'agent_rejected', message: 'bad token', nonRetryable: true });
    expect(await failureOf(retriedQuietly(log, 'stop', () => Promise.reject(final)))).toBe(final);
    const cancelled = new CancelledFailure('cancelled');
    expect(await failureOf(retriedQuietly(log, 'stop', () => Promise.reject(cancelled)))).toBe(cancelled);
    expect(lines).toEqual([]);
  });

  it('returns what the step returns', async () => {
    const { log, lines } = capturedLogger();
    expect(await retriedQuietly(log, 'stop', async () => 'stopped')).toBe('stopped');
    expect(lines).toEqual([]);
  });
});
