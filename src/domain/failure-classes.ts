import type { ErrorKind } from './execution-status.js';

/**
 * Every failure an execution step can meet, classified once (DESIGN §4, "every step ends"). Steps
 * retry only `infrastructure` (within the step's own bound: its timeout, or `infrastructureBoundSeconds`
 * for the short steps) and `unexpected` (a few attempts); every other class ends the execution at
 * once with its error kind. Retry policies and the client's "unavailable" errors derive from this table.
 */
export const failureClasses = {
  /** Postgres, Redis, Temporal or an agent down, restarting or overloaded: it comes back. */
  infrastructure: { retry: 'within_bound' },
  /** The worker running the step is shutting down (a deploy): another worker takes over. */
  worker_shutdown: { retry: 'within_bound' },
  /** An agent asked to stop a run still reports it running: asked again until the stop's own bound. */
  stop_pending: { retry: 'within_bound' },
  /** Input that no retry can store or run: a character Postgres refuses, an unknown agent. */
  invalid_input: { retry: 'never', errorKind: 'invalid_input' },
  /** The agent understood and refused (a bad token, an invalid request, a conflicting id). */
  agent_rejected: { retry: 'never', errorKind: 'agent_rejected' },
  /** The agent answered what the protocol does not allow. */
  agent_protocol_error: { retry: 'never', errorKind: 'agent_protocol_error' },
  /** The agent no longer knows a run it started (it restarted). */
  agent_lost_execution: { retry: 'never', errorKind: 'agent_lost_execution' },
  /** The agent's registration cannot be used on this worker: its token reference does not resolve. */
  agent_misconfigured: { retry: 'never', errorKind: 'agent_misconfigured' },
  /** Thrown only once LIFELINE_AGENT_UNREACHABLE_SECONDS is spent: its bound is behind it. */
  agent_unreachable: { retry: 'never', errorKind: 'agent_unreachable' },
  /** The run made no progress for its idle timeout: it would not make any by being retried. */
  agent_stalled: { retry: 'never', errorKind: 'agent_stalled' },
  /** The agent reported a cost above the execution's budget: going on would only spend more. */
  budget_exceeded: { retry: 'never', errorKind: 'budget_exceeded' },
  /** The execution's tenant spent a budget whose policy stops runs in flight: going on would spend more. */
  tenant_over_budget: { retry: 'never', errorKind: 'tenant_over_budget' },
  /** The row was ended by another hand before the agent got the run: nothing is started or written. */
  closed_outside_workflow: { retry: 'never', errorKind: 'closed_outside_workflow' },
  /** Anything not recognised (a bug, a library's surprise): a few attempts, then the execution fails. */
  unexpected: { retry: 'few_attempts', errorKind: 'internal_error' },
} as const satisfies Record<string, { retry: 'within_bound' | 'never' | 'few_attempts'; errorKind?: ErrorKind }>;

export type FailureClass = keyof typeof failureClasses;

/** How long a short step (admission, conclusion) retries an infrastructure failure before the execution fails. */
export const infrastructureBoundSeconds = 3600;

/** Attempts of a step that meets an unexpected failure, the first included. */
export const unexpectedFailureAttempts = 5;

/** The failure types no retry can fix: the `nonRetryableErrorTypes` of every execution step. */
export const permanentFailureTypes: ErrorKind[] = Object.values(failureClasses).flatMap((c) => (c.retry === 'never' ? [c.errorKind] : []));

/**
 * SQLSTATE classes: 08 connection exception, 53 insufficient resources, 57P01-57P03 the server
 * shutting down or starting, 40 a serialization failure or deadlock (the transaction may be redone).
 */
const transientSqlState = /^(08|53|57P0[123]|40)/;
/** 22 data exception (such as 22021, a NUL or invalid UTF-8 byte in text): the data itself is refused. */
const invalidDataSqlState = /^22/;
const transientNetworkCode = /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|ENOTFOUND)$/;
/** What pg, ioredis and gRPC say when their server is away, in messages without an error code. */
const transientMessage =
  /Connection terminated|connection is closed|Connection is closed|MaxRetriesPerRequest|max retries per request|timeout exceeded when trying to connect|UNAVAILABLE|ECONNREFUSED|ETIMEDOUT|ECONNRESET|LOADING|READONLY|TRYAGAIN|CLUSTERDOWN/i;

/** The error names of Lifeline's agent client, and the failure type an activity already gave an error. */
const classOfName: Record<string, FailureClass> = {
  AgentUnreachableError: 'infrastructure',
  AgentRejectedError: 'agent_rejected',
  AgentProtocolError: 'agent_protocol_error',
  AgentTokenError: 'agent_misconfigured',
  MaxRetriesPerRequestError: 'infrastructure',
  StopPendingError: 'stop_pending',
};

/** The class of any error a step meets; it reads only the error's name, code, type and message. */
export function classifyFailure(err: unknown): FailureClass {
  if (!(err instanceof Error)) return 'unexpected';
  const type = (err as { type?: unknown }).type;
  if (typeof type === 'string' && type in failureClasses) return type as FailureClass;
  for (const candidate of [err.name, err.constructor?.name]) {
    const known = candidate ? classOfName[candidate] : undefined;
    if (known) return known;
  }
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (transientSqlState.test(code) || transientNetworkCode.test(code)) return 'infrastructure';
    if (invalidDataSqlState.test(code)) return 'invalid_input';
  }
  const cause = err.cause instanceof Error ? err.cause : undefined;
  if (transientMessage.test(err.message) || (cause && classifyFailure(cause) === 'infrastructure')) return 'infrastructure';
  return 'unexpected';
}
