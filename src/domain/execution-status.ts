/**
 * The execution state machine (DESIGN §3). Pure and dependency-free: the workflow, the store and
 * the tests use it, and migrations/0001_executions.sql enforces the same table in the database.
 */

export const executionStatuses = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out', 'skipped'] as const;
export type ExecutionStatus = (typeof executionStatuses)[number];

export const terminalStatuses = ['succeeded', 'failed', 'cancelled', 'timed_out', 'skipped'] as const;
export type TerminalStatus = (typeof terminalStatuses)[number];

const allowedTransitions: Record<ExecutionStatus, readonly ExecutionStatus[]> = {
  queued: ['running', 'skipped', 'cancelled', 'timed_out', 'failed'],
  running: ['succeeded', 'failed', 'cancelled', 'timed_out'],
  succeeded: [],
  failed: [],
  cancelled: [],
  timed_out: [],
  skipped: [],
};

export function isTerminal(status: ExecutionStatus): status is TerminalStatus {
  return (terminalStatuses as readonly string[]).includes(status);
}

export function canTransition(from: ExecutionStatus, to: ExecutionStatus): boolean {
  return allowedTransitions[from].includes(to);
}

/** Statuses from which `to` may be reached: the guard of a compare-and-set UPDATE. */
export function allowedFrom(to: ExecutionStatus): ExecutionStatus[] {
  return executionStatuses.filter((from) => canTransition(from, to));
}

export const errorKinds = [
  'agent_failed',
  'agent_cancelled',
  'agent_lost_execution',
  'agent_unreachable',
  'agent_protocol_error',
  'agent_rejected',
  'agent_misconfigured',
  'agent_busy',
  'heartbeat_timeout',
  'deadline_exceeded',
  'agent_stalled',
  'budget_exceeded',
  /** Its tenant had spent a budget: refused at admission (\`skipped\`), or stopped in flight (\`failed\`). */
  'tenant_over_budget',
  'queue_timeout',
  'cancelled_by_operator',
  'closed_outside_workflow',
  /** The workflow ended (a Temporal execution timeout, a terminate) before any worker picked it up: it never ran. */
  'never_picked_up',
  'invalid_input',
  'internal_error',
  /** Only a workflow's failure type, never a row's: a second run of an execution that had already ended. */
  'already_finished',
] as const;
export type ErrorKind = (typeof errorKinds)[number];

export type Actor = 'workflow' | 'reconciler' | 'operator';

/** How an execution ended, as the workflow or the reconciler decides it. */
export interface TerminalOutcome {
  status: TerminalStatus;
  errorKind?: ErrorKind;
  error?: string;
  exitCode?: number | null;
}

/** An execution stopped by an operator: the `stop` signal (with its reason) or Cancel through Temporal. */
export function cancelledOutcome(stopReason: string | undefined): TerminalOutcome {
  return {
    status: 'cancelled',
    errorKind: 'cancelled_by_operator',
    error: stopReason !== undefined ? `stopped by operator: ${stopReason}` : 'cancelled through Temporal',
  };
}
