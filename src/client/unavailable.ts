import { classifyFailure } from '../domain/failure-classes.js';
import { InvalidExecutionInputError, LifelineUnavailableError } from './client-errors.js';

const unreachable = /UNAVAILABLE|ECONNREFUSED|ETIMEDOUT|Connection terminated|connect/i;
/**
 * SQLSTATEs of a Postgres that is down for now: connection exceptions (08...) and a server shutting
 * down or starting up (57P01-57P03, "the database system is shutting down"), whose messages say nothing of connecting.
 */
const unavailableSqlState = /^(08|57P0[123])/;

/**
 * A failure to reach Temporal or Postgres becomes LifelineUnavailableError, so callers can tell
 * "retry later" from a real error. Temporal's ServiceError keeps the gRPC status in its cause.
 */
export function asUnavailable(what: string, err: unknown): Error {
  if (err instanceof InvalidExecutionInputError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : '';
  const sqlState = err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : '';
  // The failure table's infrastructure class (a reset connection, Postgres restarting...) first, then what only the client meets.
  if (
    classifyFailure(err) === 'infrastructure' ||
    unreachable.test(message) ||
    unreachable.test(cause) ||
    unavailableSqlState.test(sqlState)
  ) {
    return new LifelineUnavailableError(`${what} is unavailable: ${cause || message}`, { cause: err });
  }
  return err instanceof Error ? err : new Error(message);
}

export async function unavailableOnFailure<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw asUnavailable(what, err);
  }
}
