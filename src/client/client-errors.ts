/** Errors a caller of the Lifeline client can tell apart (documented in docs/client.md, Errors). */

export interface FieldIssue {
  field: string;
  message: string;
}

/** The input was refused before anything ran; nothing was stored. */
export class InvalidExecutionInputError extends Error {
  override name = 'InvalidExecutionInputError';
  constructor(readonly issues: FieldIssue[]) {
    super(`invalid execution input: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
  }
}

/** Temporal, Postgres or Redis could not be reached; the call may be retried. */
export class LifelineUnavailableError extends Error {
  override name = 'LifelineUnavailableError';
}

export class ExecutionNotFoundError extends Error {
  override name = 'ExecutionNotFoundError';
}

export class ScheduleNotFoundError extends Error {
  override name = 'ScheduleNotFoundError';
}

/** A schedule with this id already exists; nothing was changed. */
export class ScheduleConflictError extends Error {
  override name = 'ScheduleConflictError';
}

/** An execution with this id exists with another agent or prompt; nothing was started. The same request again is idempotent. */
export class ExecutionConflictError extends Error {
  override name = 'ExecutionConflictError';
}
