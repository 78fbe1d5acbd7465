import { maxDescribedForProblems } from './reported-problems.js';
import type { Cycle } from './cycle.js';
import { listStuckExecutions, stuckSourcesOf } from './stuck-executions.js';
import { type StuckExecution } from '../contract/reconcile-report.js';

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
  let reportedProblems: boolean;
  try {
    ({ stuck: report.stuck, reportedProblems } = await listStuckExecutions(stuckSourcesOf(deps)));
  } catch (err) {
    deps.repeatedWarnings.warn(deps.log, 'stuck-report', { err: (err as Error).message }, 'reconciler could not list stuck executions');
    return;
  }
  if (dryRun) return;
  if (!reportedProblems) {
    // Never silent: a server without the attribute gets the slower search, and operators hear of it.
    await deps.standingAlerts.send(
      {
        kind: 'stuck_detection_degraded',
        summary: `Temporal has no TemporalReportedProblems (server 1.30 and later): failing workflow tasks are looked for among the ${maxDescribedForProblems} newest running executions each cycle, and the lifeline_executions_stuck gauge leaves them out`,
        details: { runbook: 'docs/production.md: Self-hosted, Version' },
      },
      'stuck-detection-degraded',
    );
  }
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
          runbook: 'docs/operations.md: Stuck executions',
        },
      },
      `${stuck.executionId}:${stuck.reason}`,
    );
  }
}
