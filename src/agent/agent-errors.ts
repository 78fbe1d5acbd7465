/**
 * What went wrong talking to an agent, split by what the caller should do about it: retry
 * (the agent may come back) or give up (retrying the same request cannot help).
 */
export abstract class AgentError extends Error {
  abstract readonly retryable: boolean;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** No usable answer: connection refused, timeout, or a 5xx. The agent may recover. */
export class AgentUnreachableError extends AgentError {
  readonly retryable = true;

  constructor(
    message: string,
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The agent answered with something the protocol does not allow: a bug on one side or the other. */
export class AgentProtocolError extends AgentError {
  readonly retryable = false;

  constructor(
    message: string,
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The agent understood and refused (bad token, invalid request, conflicting id). */
export class AgentRejectedError extends AgentError {
  readonly retryable = false;

  constructor(
    message: string,
    readonly status: number,
    /** The agent's own explanation, as sent in its `error` field or body. */
    readonly agentMessage: string,
  ) {
    super(message);
  }
}

/** The agent was asked to stop a run and still reports it running: its process has not ended yet. */
export class StopPendingError extends AgentError {
  readonly retryable = true;
}
