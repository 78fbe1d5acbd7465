import type { Cycle } from './cycle.js';
import { listStuckExecutions, stuckSourcesOf, type StuckExecution } from './stuck-executions.js';

function reasonText(stuck: StuckExecution): string {
  switch (stuck.reason) {
    case 'no_worker_for_build':
      return 'no worker for its build';
    case 'no_worker_polling':
      return 'no worker polls its task queue';
    case 'workflow_task_failing':
      return `workflow task failed ${stuck.attempts ?? 'several'} times`;
  }
}

/**
 * Executions whose workflow cannot make progress (a code change without a new build, a payload no
 * worker can decode, a build whose workers were stopped too soon, a task queue no worker polls):
 * alerted with their cause (again every LIFELINE_ALERT_REPEAT_SECONDS while they last), and listed
 * in the report. The row is left as it is: the right worker may come back, or the operator stops or
 * terminates the workflow, and then the reconciler finalizes it (or records it, when it never had a row).
 */
export async function reportStuckExecutions(cycle: Cycle): Promise<void> {
  const { deps, report, dryRun } = cycle;
  try {
    report.stuck = await listStuckExecutions(stuckSourcesOf(deps));
  } catch (err) {
    // A server without TemporalReportedProblems (older than 1.28): full sweeps still describe every row.
    deps.log.warn({ err: (err as Error).message }, 'reconciler could not list stuck executions');
    return;
  }
  if (dryRun) return;
  for (const stuck of report.stuck) {
    await deps.standingAlerts.send(
      {
        kind: 'execution_stuck',
        summary: `execution ${stuck.executionId} cannot make progress (${reasonText(stuck)}): ${stuck.cause}`,
        executionId: stuck.executionId,
        agent: stuck.agent,
        details: {
          reason: stuck.reason,
          build: stuck.build,
          taskQueue: stuck.taskQueue,
          rowStatus: stuck.rowStatus,
          since: stuck.since?.toISOString(),
          runbook: 'README: Operations, stuck executions',
        },
      },
      `${stuck.executionId}:${stuck.reason}`,
    );
  }
}
