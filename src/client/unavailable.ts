import { InvalidExecutionInputError, LifelineUnavailableError } from './client-errors.js';

const unreachable = /UNAVAILABLE|ECONNREFUSED|ETIMEDOUT|Connection terminated|connect/i;

/**
 * A failure to reach Temporal or Postgres becomes LifelineUnavailableError, so callers can tell
 * "retry later" from a real error. Temporal's ServiceError keeps the gRPC status in its cause.
 */
export function asUnavailable(what: string, err: unknown): Error {
  if (err instanceof InvalidExecutionInputError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : '';
  if (unreachable.test(message) || unreachable.test(cause)) {
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
