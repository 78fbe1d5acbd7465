import type { WorkflowClient } from '@temporalio/client';

/** gRPC's INVALID_ARGUMENT: what visibility answers for a search attribute it does not know. */
const INVALID_ARGUMENT = 3;

/** Asked once per client: a server does not gain or lose the attribute while a process runs. */
const known = new WeakMap<WorkflowClient, Promise<boolean>>();

/**
 * Whether visibility knows `TemporalReportedProblems` (server 1.30 and later; the threshold is the
 * dynamic config `system.numConsecutiveWorkflowTaskProblemsToTriggerSearchAttribute`). Without it,
 * failing workflow tasks are found by describing running executions instead (stuck-executions.ts).
 */
export function reportedProblemsAvailable(workflows: WorkflowClient): Promise<boolean> {
  let answer = known.get(workflows);
  if (!answer) {
    answer = workflows.count(`TemporalReportedProblems IN ('category=WorkflowTaskFailed')`).then(
      () => true,
      (err: unknown) => {
        if ((err as { code?: number }).code === INVALID_ARGUMENT) return false;
        known.delete(workflows);
        throw err;
      },
    );
    known.set(workflows, answer);
  }
  return answer;
}

/** Running executions a cycle describes for a failing workflow task when the server cannot report them: a bound on its cost. */
export const maxDescribedForProblems = 200;
