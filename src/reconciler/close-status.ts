import type { WorkflowState } from '../contract/reconcile-report.js';
import type { TerminalOutcome } from '../domain/execution-status.js';

export function isWorkflowOpen(state: WorkflowState): boolean {
  // A state the reconciler does not understand counts as open: it never finalizes what it cannot prove closed.
  return state === 'RUNNING' || state === 'CONTINUED_AS_NEW' || state === 'UNKNOWN';
}

/** The terminal row for a live row whose workflow closed without writing it (DESIGN §6). */
export function outcomeForClosedWorkflow(state: WorkflowState): TerminalOutcome {
  const errorKind = 'closed_outside_workflow' as const;
  switch (state) {
    case 'TERMINATED':
      return { status: 'cancelled', errorKind, error: 'workflow terminated outside Lifeline (for example Terminate in the Temporal UI)' };
    case 'CANCELLED':
      return { status: 'cancelled', errorKind, error: 'workflow cancelled before it could write its status' };
    case 'TIMED_OUT':
      return { status: 'timed_out', errorKind, error: 'workflow hit a Temporal execution timeout' };
    case 'NOT_FOUND':
      return { status: 'failed', errorKind, error: 'no workflow exists for this execution' };
    default:
      return { status: 'failed', errorKind, error: `workflow ended (${state}) without writing its status` };
  }
}

/**
 * The terminal row of an execution whose workflow closed before any worker picked it up (no row
 * was ever written): it never ran. A timeout is Temporal's workflow execution timeout, which the
 * client sets past the longest life a run can have (execution-lifetime.ts).
 */
export function outcomeForNeverPickedUp(state: WorkflowState, taskQueue: string): TerminalOutcome {
  const errorKind = 'never_picked_up' as const;
  const before = `before any worker picked it up from task queue ${taskQueue}`;
  switch (state) {
    case 'TIMED_OUT':
      return { status: 'timed_out', errorKind, error: `its Temporal workflow execution timeout passed ${before}` };
    case 'TERMINATED':
      return { status: 'cancelled', errorKind, error: `terminated outside Lifeline (for example in the Temporal UI) ${before}` };
    case 'CANCELLED':
      return { status: 'cancelled', errorKind, error: `cancelled ${before}` };
    default:
      return { status: 'failed', errorKind, error: `workflow ended (${state}) ${before}` };
  }
}
