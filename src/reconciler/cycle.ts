import type { ReconcileReport, Sweep } from '../contract/reconcile-report.js';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { LifelineDeps } from '../deps/lifeline-deps.js';
import type { WorkflowState } from '../contract/reconcile-report.js';

/**
 * Executions one cycle checks at once. Their describe calls (only a describe is current the moment
 * a workflow closes, visibility lags behind it) and their Postgres and Redis calls overlap instead
 * of queueing, which matters when Temporal is a network hop away.
 */
export const parallelChecks = 16;

/** One cycle's dependencies, mode and report, shared by its passes. */
export interface Cycle {
  deps: LifelineDeps;
  dryRun: boolean;
  report: ReconcileReport;
  describe(workflowId: string): Promise<WorkflowState>;
  fail(executionId: string, err: unknown): void;
}

export function startCycle(deps: LifelineDeps, dryRun: boolean, sweep: Sweep): Cycle {
  const report: ReconcileReport = {
    dryRun,
    sweep,
    liveRowsChecked: 0,
    leasesChecked: 0,
    workflowsDescribed: 0,
    recoveries: [],
    awaitingWorker: 0,
    stuck: [],
    currentBuildsWithoutWorkers: [],
    failures: [],
    durationMs: 0,
  };
  return {
    deps,
    dryRun,
    report,
    async describe(workflowId) {
      report.workflowsDescribed += 1;
      try {
        const { status } = await deps.workflows.getHandle(workflowId).describe();
        return status.name as WorkflowState;
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return 'NOT_FOUND';
        throw err;
      }
    },
    fail(executionId, err) {
      const error = err instanceof Error ? err.message : String(err);
      report.failures.push({ executionId, error });
      deps.log.error({ executionId, err: error }, 'reconciler could not recover an execution');
    },
  };
}
