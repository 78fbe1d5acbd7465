import { ApplicationFailure } from '@temporalio/activity';
import type { ExecutionStatus } from '../domain/execution-status.js';
import type { RunFailureDetails } from '../domain/execution-types.js';
import type { LifelineDeps } from '../deps/lifeline-deps.js';

/**
 * Marks the row `running` (queued → running, once) and records how long the execution waited for
 * its slot and then for a worker. Returns the row's status afterwards: `running`, or the terminal
 * status another hand (the reconciler, an operator's SQL) wrote meanwhile.
 */
export async function markRunning(deps: Pick<LifelineDeps, 'executions' | 'metrics'>, executionId: string, agent: string, reason: string) {
  const result = await deps.executions.transition(executionId, 'running', { actor: 'workflow', reason });
  if (result.applied && result.startedAt) {
    const started = result.startedAt.getTime();
    deps.metrics.queueWaited(agent, (started - result.createdAt.getTime()) / 1000);
    if (result.slotAcquiredAt) deps.metrics.workerWaited(agent, (started - result.slotAcquiredAt.getTime()) / 1000);
  }
  return result.applied ? 'running' : (result.current ?? 'running');
}

/** The row ended before the agent got the run: nothing is started, nothing is left to write. */
export function closedBeforeStart(executionId: string, status: ExecutionStatus): ApplicationFailure {
  return ApplicationFailure.create({
    type: 'closed_outside_workflow',
    message: `execution ${executionId} is already ${status}; its agent run is not started`,
    nonRetryable: true,
    details: [{ processStarted: false } satisfies RunFailureDetails],
  });
}
